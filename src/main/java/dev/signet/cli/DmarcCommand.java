package dev.signet.cli;

import dev.signet.config.SignetConfig;
import dev.signet.dmarc.DailyReport;
import dev.signet.dmarc.DmarcReports;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code signet dmarc ingest|report}: DMARC aggregate reports (RFC 7489 §7.2) into numbers. */
@Command(name = "dmarc", mixinStandardHelpOptions = true,
    description = {
      "DMARC aggregate reports: how receivers judged the mail.",
      "Summaries are kept under <spool.dir>/dmarc/, once per reporter and report id."},
    subcommands = {DmarcCommand.Ingest.class, DmarcCommand.Report.class})
final class DmarcCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: ingest or report");
  }

  @Command(name = "ingest", mixinStandardHelpOptions = true,
      description = {
        "Read reports (.xml, .xml.gz, .zip; alone or attached to mail messages) and store their summaries.",
        "Sources: FILEs ('-' = stdin), --dir, --imap; with none, the mailbox of dmarc.imap.",
        "IMAP: unread messages are read and marked read. A file that is not a report is reported and skipped."})
  static final class Ingest implements Callable<Integer> {
    @Mixin ConfigOption config;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Every file in DIR.")
    Path dir;

    @Option(names = "--imap", paramLabel = "URL",
        description = "imap://user:password@host:port/folder or imaps://... (default: dmarc.imap).")
    String imap;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "Report files or messages; '-' reads stdin.")
    List<String> files = new ArrayList<>();

    @Override
    public Integer call() {
      SignetConfig cfg = config.load();
      PrintWriter out = spec.commandLine().getOut();
      List<DmarcReports.Outcome> outcomes = new ArrayList<>();
      try {
        DmarcReports reports = new DmarcReports(cfg.spool().dir(), summary -> { });
        for (String file : files) {
          if (file.equals("-")) {
            outcomes.addAll(reports.stream("stdin", System.in));
          } else {
            outcomes.addAll(reports.file(Path.of(file)));
          }
        }
        if (dir != null) {
          outcomes.addAll(reports.directory(dir));
        }
        String mailbox = imap != null ? imap : files.isEmpty() && dir == null ? cfg.dmarc().imap().orElse(null) : null;
        if (files.isEmpty() && dir == null && mailbox == null) {
          throw new CommandFailure("nothing to read: give FILEs, --dir or --imap, or set dmarc.imap in the config");
        }
        if (mailbox != null) {
          outcomes.addAll(reports.mailbox(mailbox));
        }
      } catch (IOException e) {
        throw new CommandFailure(e.getMessage());
      }
      int stored = 0;
      for (DmarcReports.Outcome o : outcomes) {
        switch (o) {
          case DmarcReports.Outcome.Stored s -> {
            stored++;
            out.printf("stored     %s: %s report %s, %d messages%n", s.source(), s.report().org(),
                s.report().reportId(), s.report().messages());
          }
          case DmarcReports.Outcome.Duplicate d -> out.printf("duplicate  %s: %s report %s already stored%n",
              d.source(), d.report().org(), d.report().reportId());
          case DmarcReports.Outcome.Malformed m -> out.printf("skipped    %s: %s%n", m.source(), m.reason());
        }
      }
      out.printf("%d new report(s), %d read%n", stored, outcomes.size());
      out.flush();
      return 0;
    }
  }

  @Command(name = "report", mixinStandardHelpOptions = true,
      description = "Per day and reporting organization: messages, DKIM and SPF aligned pass rates, "
          + "dispositions, source addresses not authorized by SPF.")
  static final class Report implements Callable<Integer> {
    @Mixin ConfigOption config;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      SignetConfig cfg = config.load();
      PrintWriter out = spec.commandLine().getOut();
      try {
        DailyReport.print(out, new DmarcReports(cfg.spool().dir(), summary -> { }).stored());
      } catch (IOException e) {
        throw new CommandFailure(e.getMessage());
      }
      out.flush();
      return 0;
    }
  }
}
