package org.moe4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SlurmNodeListTest {

    @Test
    void expandsRangesAndSingles() {
        assertEquals(List.of("node10", "node11", "node12", "node20"), SlurmNodeList.expand("node[10-12,20]"));
    }

    @Test
    void keepsZeroPaddingAndPlainHosts() {
        assertEquals(List.of("a01", "a02", "a03", "b7"), SlurmNodeList.expand("a[01-03],b7"));
        assertEquals(List.of("n098", "n099", "n100", "n101"), SlurmNodeList.expand("n[098-101]"));
        assertEquals(List.of("n8", "n9", "n10"), SlurmNodeList.expand("n[8-10]"));
        assertEquals(List.of("gpu-node-7"), SlurmNodeList.expand("gpu-node-7"));
    }

    @Test
    void expandsSeveralBracketsInOneName() {
        assertEquals(List.of("rack1-gpu01", "rack1-gpu02", "rack2-gpu01", "rack2-gpu02"),
                SlurmNodeList.expand("rack[1-2]-gpu[01-02]"));
    }

    @Test
    void firstHostDoesNotExpandTheRest() {
        assertEquals("node10", SlurmNodeList.firstHost("node[10-12,20]"));
        assertEquals("a01", SlurmNodeList.firstHost("a[01-03],b7"));
        assertEquals("x0000001", SlurmNodeList.firstHost("x[0000001-9999999]"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "node[1-", "node]1", "node[3-1]", "node[a-b]", "a,,b", "n[]", "n[[1]]",
            "n[1-2000000]"})
    void rejectsMalformedLists(String list) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SlurmNodeList.expand(list));
        assertTrue(e.getMessage().contains("node list"), e.getMessage());
    }
}
