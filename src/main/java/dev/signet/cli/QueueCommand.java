package dev.signet.cli;

import dev.signet.events.BounceRules;
import dev.signet.queue.Envelope;
import dev.signet.queue.Envelope.Recipient;
import dev.signet.queue.Envelope.State;
import dev.signet.queue.QueueControl;
import dev.signet.queue.Spool;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code signet queue list|show|flush|retry|delete}: the spool of a running or stopped relay. */
@Command(name = "queue", mixinStandardHelpOptions = true,
    description = {
      "Inspect and act on the spool (spool.dir of the config).",
      "",
      "list and show only read the spool's files. When the relay runs (it holds <spool>/lock), flush, retry "
          + "and delete go to its admin API (admin.listen, with admin.token); when it does not run, they change "
          + "the spool's files directly. An unknown ID exits with status 1."},
    subcommands = {
      QueueCommand.ListCommand.class, QueueCommand.ShowCommand.class, QueueCommand.FlushCommand.class,
      QueueCommand.RetryCommand.class, QueueCommand.DeleteCommand.class})
final class QueueCommand extends CommandGroup {

  @Override
  String subcommands() {
    return "list, show ID, flush, retry ID or delete ID";
  }

  /** The subcommands' shared part: the spool, and changes made directly or through the running relay. */
  abstract static class Sub extends CommandGroup.Sub {
    QueueControl control() {
      return QueueControl.of(settings().spool().dir());
    }

    /**
     * A change: made by the running relay through its admin API, or on the stopped relay's spool.
     *
     * @param direct the change on the files; throws {@link Spool.InUse} when a relay runs
     * @param api the same through the API; returns the text to print
     */
    void change(Change direct, ViaApi api) throws IOException, InterruptedException {
      String text;
      try {
        text = direct.run(control());
      } catch (Spool.InUse running) {
        AdminClient client = AdminClient.ofRunningRelay(settings())
            .orElseThrow(() -> new IOException("the relay stopped meanwhile; try again"));
        try {
          text = api.run(client) + " (by the running relay)";
        } catch (AdminClient.ApiFailure e) {
          throw new CommandFailure(e.getMessage());
        }
      }
      out().println(text);
    }
  }

  interface Change {
    String run(QueueControl control) throws IOException;
  }

  interface ViaApi {
    String run(AdminClient client) throws IOException, InterruptedException;
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "One line per queued message: id, age, size, sender, recipients pending/delivered/failed, next attempt, "
          + "and the provider whose traffic shaping holds it back, until when.")
  static final class ListCommand extends Sub {
    @Override
    void run() throws IOException {
      List<Envelope> queued = control().list();
      Instant now = Instant.now();
      for (Envelope e : queued) {
        out().printf("%s  %7s  %9d  <%s>  pending=%d delivered=%d failed=%d  next=%s%s%n", e.id(),
            age(Duration.between(e.received(), now)), e.size(), e.sender(), count(e, State.PENDING),
            count(e, State.DELIVERED), count(e, State.FAILED), next(e, now), held(e, now));
      }
      out().println(queued.size() + " message" + (queued.size() == 1 ? "" : "s") + " in the queue");
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "The envelope of message ID (each recipient's state, attempts, next attempt, last reply) and its headers.")
  static final class ShowCommand extends Sub {
    @Parameters(paramLabel = "ID", description = "Queue id, as `queue list` prints it.") String id;

    @Override
    void run() throws IOException {
      QueueControl control = control();
      BounceRules rules = BounceRules.load(settings().feedback().events().bounceRules());
      Envelope e = control.envelope(id);
      String headers = control.headers(id);
      Instant now = Instant.now();
      PrintWriter out = out();
      out.printf("id         %s%n", e.id());
      out.printf("received   %s (%s ago)%n", e.received(), age(Duration.between(e.received(), now)));
      out.printf("sender     <%s>%n", e.sender());
      out.printf("client     %s helo=%s auth=%s%n", e.client(), e.helo().orElse("-"), e.authUser().orElse("-"));
      out.printf("size       %d%n", e.size());
      for (String signature : e.signatures()) {
        out.printf("signature  %s%n", signature);
      }
      for (Recipient r : e.recipients()) {
        out.printf("recipient  <%s> %s attempts=%d next=%s class=%s reply=\"%s\"%n", r.address(), r.state(),
            r.attempts(), r.nextAttempt().map(Instant::toString).orElse("-"),
            QueueControl.bounceClass(r, rules).orElse("-"), r.lastReply());
      }
      out.println();
      out.print(headers);
    }
  }

  @Command(name = "flush", mixinStandardHelpOptions = true,
      description = "Make every pending recipient of every message due now.")
  static final class FlushCommand extends Sub {
    @Override
    void run() throws IOException, InterruptedException {
      change(QueueControl::flush, api -> {
        int n = api.post("queue/flush", null).get("flushed").asInt();
        return "flushed " + n + " message" + (n == 1 ? "" : "s");
      });
    }
  }

  @Command(name = "retry", mixinStandardHelpOptions = true,
      description = "Make the pending recipients of message ID due now.")
  static final class RetryCommand extends Sub {
    @Parameters(paramLabel = "ID") String id;

    @Override
    void run() throws IOException, InterruptedException {
      change(c -> c.retry(id), api -> api.post("queue/" + AdminClient.encode(id) + "/retry", null).get("result").asText());
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Remove message ID from the queue without a bounce; prints what was deleted.")
  static final class DeleteCommand extends Sub {
    @Parameters(paramLabel = "ID") String id;

    @Override
    void run() throws IOException, InterruptedException {
      change(c -> c.delete(id), api -> api.delete("queue/" + AdminClient.encode(id)).get("result").asText());
    }
  }

  private static long count(Envelope e, State state) {
    return e.recipients().stream().filter(r -> r.state() == state).count();
  }

  private static String next(Envelope e, Instant now) {
    return e.recipients().stream().filter(r -> r.state() == State.PENDING)
        .map(r -> r.nextAttempt().orElse(now)).min(Instant::compareTo)
        .map(t -> t.isAfter(now) ? "in " + age(Duration.between(now, t)) : "now").orElse("-");
  }

  /**
   * "  held back by shaping: provider google suspended (rule ...) until ..." while shaping holds a
   * recipient back: the hold's own reply as recorded, picked by its fields (a local 451 4.4.5) and a
   * next attempt still ahead, never read back from its text.
   */
  static String held(Envelope e, Instant now) {
    return e.recipients().stream()
        .filter(r -> r.state() == State.PENDING && r.nextAttempt().map(t -> t.isAfter(now)).orElse(false))
        .flatMap(r -> r.reply().stream())
        .filter(reply -> reply.remoteMta().isEmpty() && reply.code() == dev.signet.shaping.Hold.CODE
            && dev.signet.shaping.Hold.STATUS.equals(reply.status()))
        .findFirst().map(reply -> "  " + reply.text()).orElse("");
  }

  /** 12s, 4m02s, 2h13m, 5d03h: two units at most. */
  static String age(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format("%dm%02ds", s / 60, s % 60);
    }
    if (s < 86400) {
      return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
    }
    return String.format("%dd%02dh", s / 86400, s % 86400 / 3600);
  }
}
