package org.moe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenDatasetTest {

    private static int[] iota(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = i;
        }
        return t;
    }

    @Test
    void batchesAreShiftedWindowsOfTheTrainingPart() {
        TokenDataset d = new TokenDataset("iota", iota(1000), 0.1, 1);
        assertEquals(900, d.trainTokens());
        assertEquals(100, d.validationTokens());
        Batch b = d.nextTrainBatch(3, 7);
        for (int r = 0; r < 3; r++) {
            int start = b.inputs()[r * 7];
            for (int t = 0; t < 7; t++) {
                assertEquals(start + t, b.inputs()[r * 7 + t]);
                assertEquals(start + t + 1, b.targets()[r * 7 + t]);
            }
            assertTrue(start + 7 < 900, "window leaves the training part: " + start);
        }
    }

    @Test
    void sameSeedSameBatchesAndStateRestoreResumesExactly() {
        TokenDataset a = TokenDataset.fromSyntheticCorpus(3, 5000, 0.1, 99);
        TokenDataset b = TokenDataset.fromSyntheticCorpus(3, 5000, 0.1, 99);
        assertArrayEquals(a.nextTrainBatch(4, 16).inputs(), b.nextTrainBatch(4, 16).inputs());
        long saved = a.rngState();
        Batch next = a.nextTrainBatch(4, 16);
        Batch after = a.nextTrainBatch(4, 16);
        TokenDataset resumed = TokenDataset.fromSyntheticCorpus(3, 5000, 0.1, 12345);
        resumed.setRngState(saved);
        assertArrayEquals(next.inputs(), resumed.nextTrainBatch(4, 16).inputs());
        assertArrayEquals(after.targets(), resumed.nextTrainBatch(4, 16).targets());
    }

    @Test
    void validationBatchesAreFixedAndInsideTheValidationPart() {
        TokenDataset d = new TokenDataset("iota", iota(1000), 0.2, 1);
        List<Batch> v = d.validationBatches(2, 10, 100);
        assertEquals((199 / 10) / 2, v.size());
        d.nextTrainBatch(2, 10); // sampling must not move validation windows
        List<Batch> again = d.validationBatches(2, 10, 100);
        int prevStart = -1;
        for (int k = 0; k < v.size(); k++) {
            assertArrayEquals(v.get(k).inputs(), again.get(k).inputs());
            for (int r = 0; r < 2; r++) {
                int start = v.get(k).inputs()[r * 10];
                assertTrue(start >= 800 && start + 10 < 1000, "start " + start);
                assertTrue(start >= prevStart + 10, "windows overlap at " + start);
                prevStart = start;
            }
        }
        assertEquals(3, d.validationBatches(2, 10, 3).size());
    }

    @Test
    void tooShortTextNamesFileLengthAndT(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("tiny.txt");
        Files.writeString(f, "hello");
        TokenDataset d = TokenDataset.fromFile(f, 0.0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.nextTrainBatch(1, 8));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("has 5 tokens")
                && e.getMessage().contains("T = 8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> d.checkSequenceLength(4), "no validation part");
        assertEquals(1, d.nextTrainBatch(1, 4).batchSize());
    }
}
