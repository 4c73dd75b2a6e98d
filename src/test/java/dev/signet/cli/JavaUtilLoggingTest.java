package dev.signet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Angus Mail logs through java.util.logging: its records must come out of logback's appenders. */
class JavaUtilLoggingTest {

  @Test
  void julRecordsGoThroughLogbackSoJsonLogsStayJson() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setOutputStream(json);
    appender.start();
    root.addAppender(appender);

    PrintStream stderr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.run("--version"));
      // What Angus Mail's SMTPTransport logs when allowutf8 is set and the server lacks SMTPUTF8.
      java.util.logging.Logger.getLogger("org.eclipse.angus.mail.smtp")
          .info("mail.mime.allowutf8 set but server doesn't advertise SMTPUTF8");
    } finally {
      System.setErr(stderr);
      root.detachAppender(appender);
      appender.stop();
    }

    // JUL's ConsoleHandler would print "<date> <class> <method>" then "INFO: <message>" on stderr.
    assertFalse(err.toString(StandardCharsets.UTF_8).lines().anyMatch(l -> l.startsWith("INFO: ")),
        "JUL's own console handler printed the record: " + err);
    List<String> lines = json.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("allowutf8")).toList();
    assertEquals(1, lines.size(), json::toString);
    String line = lines.get(0);
    assertTrue(line.startsWith("{") && line.endsWith("}"), line);
    assertTrue(line.contains("\"loggerName\":\"org.eclipse.angus.mail.smtp\""), line);
    assertTrue(line.contains("\"level\":\"INFO\""), line);
  }
}
