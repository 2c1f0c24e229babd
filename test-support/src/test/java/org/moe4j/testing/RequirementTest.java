package org.moe4j.testing;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class RequirementTest {
    private final String saved = System.getProperty(Requirement.PROPERTY);

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(Requirement.PROPERTY);
        } else {
            System.setProperty(Requirement.PROPERTY, saved);
        }
    }

    @Test
    void whatIsMissingSkipsUnlessItIsRequiredThenItFails() {
        System.clearProperty(Requirement.PROPERTY);
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> Requirement.assume("opencl", false, "no platform"));
        assertTrue(skipped.getMessage().contains("opencl unavailable, test skipped: no platform"), skipped.getMessage());

        System.setProperty(Requirement.PROPERTY, "ptxas, opencl");
        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> Requirement.assume("opencl", false, "no platform"));
        assertTrue(failed.getMessage().contains("moe4j.require requires opencl"), failed.getMessage());
        assertThrows(TestAbortedException.class, () -> Requirement.assume("netns", false, "not root"));
        assertDoesNotThrow(() -> Requirement.assume("opencl", true, "unused"));
    }
}
