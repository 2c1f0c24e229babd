package org.moe4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {

    @Test
    void warmsUpLinearlyThenDecaysToTheFloor() {
        LearningRateSchedule schedule = new LearningRateSchedule(1e-3, 1e-4, 10, 110);
        assertEquals(1e-4, schedule.at(0), 1e-12);
        assertEquals(1e-3, schedule.at(9), 1e-12);
        assertEquals(1e-3, schedule.at(10), 1e-12);
        assertEquals(1e-4, schedule.at(109), 1e-12);
        assertEquals(0.55e-3, schedule.at(10 + 99 / 2), 2e-5);
        for (int step = 10; step < 109; step++) {
            assertTrue(schedule.at(step + 1) <= schedule.at(step), "not decreasing at " + step);
        }
    }
}
