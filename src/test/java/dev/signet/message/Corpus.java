package dev.signet.message;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The .eml fixtures of src/test/resources/corpus (written by src/test/scripts/make-corpus.py). */
final class Corpus {
  static final List<String> CANONICALIZATIONS = List.of("simple/simple", "simple/relaxed", "relaxed/simple",
      "relaxed/relaxed");

  private Corpus() {}

  static List<Path> messages() {
    try (Stream<Path> files = Files.list(Path.of(Corpus.class.getResource("/corpus").toURI()))) {
      List<Path> eml = files.filter(f -> f.toString().endsWith(".eml")).sorted().toList();
      if (eml.size() < 30) {
        throw new IllegalStateException("corpus has only " + eml.size() + " messages");
      }
      return eml;
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
