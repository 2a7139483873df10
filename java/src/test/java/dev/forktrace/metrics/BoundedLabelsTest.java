package dev.forktrace.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BoundedLabelsTest {
    @Test
    void theFirstNValuesKeepTheirLabelForGood() {
        BoundedLabels labels = new BoundedLabels(2);
        assertEquals("/a", labels.label("/a"));
        assertEquals("/b", labels.label("/b"));
        assertEquals("other", labels.label("/c"));
        assertEquals("/a", labels.label("/a"));
        assertEquals("other", labels.label("/c"));
        assertEquals(2, labels.overflowed());
    }

    @Test
    void aValueNamedOtherIsNotAdmittedAsItsOwnSeries() {
        BoundedLabels labels = new BoundedLabels(2);
        assertEquals("other", labels.label("other"));
        assertEquals("/a", labels.label("/a"));
        assertEquals("/b", labels.label("/b"));
    }

    @Test
    void zeroPutsEverythingUnderOther() {
        assertEquals("other", new BoundedLabels(0).label("/a"));
    }
}
