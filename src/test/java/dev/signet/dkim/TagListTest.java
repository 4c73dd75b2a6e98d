package dev.signet.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 6376 §3.2 tag-lists, as found in DKIM-Signature fields and key records. */
class TagListTest {
  @Test
  void tagsComeInOrderWithWhitespaceAroundNamesAndInsideValuesRemoved() {
    Map<String, String> tags = TagList.parse(" v=1; a=rsa-sha256;\r\n\td = example.com ; b=ab\r\n cd ==");
    assertEquals(List.of("v", "a", "d", "b"), List.copyOf(tags.keySet()));
    assertEquals("example.com", tags.get("d"));
    assertEquals("abcd==", tags.get("b"), "folded base64 is unfolded");
  }

  @Test
  void tagNamesAreCaseSensitive() {
    // RFC 6376 §3.2: "Tags MUST be interpreted in a case-sensitive manner."
    assertEquals(Optional.empty(), TagList.value("v=DKIM1; P=abc", "p"));
    assertEquals(Optional.of("abc"), TagList.value("v=DKIM1; P=abc", "P"));
  }

  @Test
  void anEmptyValueIsPresentAndATrailingSemicolonIsAllowed() {
    assertEquals(Optional.of(""), TagList.value("v=DKIM1; k=rsa; p=;", "p"));
    assertEquals(Optional.empty(), TagList.value("v=DKIM1; k=rsa", "p"));
  }

  @Test
  void theFirstOfARepeatedTagCountsAndPartsWithoutEqualsAreSkipped() {
    assertEquals(Map.of("s", "one"), TagList.parse("s=one; junk; s=two"));
  }
}
