package org.moe4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SyntheticCorpusTest {

    @Test
    void sameSeedSameBytes() {
        String a = SyntheticCorpus.generate(11, 4000);
        assertEquals(a, SyntheticCorpus.generate(11, 4000));
        assertNotEquals(a, SyntheticCorpus.generate(12, 4000));
        assertTrue(a.length() >= 4000 && a.length() < 4100, "length " + a.length());
        assertEquals(a.length(), a.getBytes(StandardCharsets.UTF_8).length, "ASCII only");
        assertTrue(a.endsWith("\n"));
    }

    @Test
    void everyDomainAppearsAndEveryLineIsCorrect() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        String text = SyntheticCorpus.generate(5, 20_000);
        for (String line : text.split("\n")) {
            String domain = SyntheticCorpus.domainOf(line);
            assertTrue(domain != null, () -> "unrecognised line: " + line);
            assertTrue(SyntheticCorpus.isCorrect(line), () -> "incorrect line: " + line);
            assertTrue(line.length() <= 48, () -> "long line: " + line);
            counts.merge(domain, 1, Integer::sum);
        }
        assertEquals(SyntheticCorpus.domains(), counts.keySet().stream().sorted(
                java.util.Comparator.comparing(SyntheticCorpus.domains()::indexOf)).toList());
        assertTrue(text.contains(" ok\n") && text.contains(" bad\n"));
    }

    @Test
    void checkerRejectsWrongAnswers() {
        assertTrue(SyntheticCorpus.isCorrect("17+25=42"));
        assertFalse(SyntheticCorpus.isCorrect("17+25=43"));
        assertTrue(SyntheticCorpus.isCorrect("sort 5 2 9 -> 2 5 9"));
        assertFalse(SyntheticCorpus.isCorrect("sort 5 2 9 -> 2 9 5"));
        assertTrue(SyntheticCorpus.isCorrect("reverse cat -> tac"));
        assertFalse(SyntheticCorpus.isCorrect("reverse cat -> cat"));
        assertTrue(SyntheticCorpus.isCorrect("([]{}) ok"));
        assertTrue(SyntheticCorpus.isCorrect("(] bad"));
        assertFalse(SyntheticCorpus.isCorrect("(] ok"));
        assertTrue(SyntheticCorpus.isCorrect("the small dog sees a red ball."));
        assertFalse(SyntheticCorpus.isCorrect("the dog dog sees a ball."));
    }
}
