package dev.signet.testkit;

import java.util.Random;

/** Random strings over a small alphabet, for checking a hand-written reader against its specification. */
public final class RandomText {
  private RandomText() {}

  /** Up to {@code maxLength - 1} characters, each drawn from {@code alphabet}. */
  public static String of(Random random, String alphabet, int maxLength) {
    char[] text = new char[random.nextInt(maxLength)];
    for (int i = 0; i < text.length; i++) {
      text[i] = alphabet.charAt(random.nextInt(alphabet.length()));
    }
    return new String(text);
  }
}
