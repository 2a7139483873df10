package dev.forktrace.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MiniJsonTest {
    @Test
    void readsNestedObjectsArraysAndEscapes() {
        Object v = MiniJson.parse(" {\"Name\":\"/web\",\"Config\":{\"Image\":\"a\\\"b\\u00e9\\n\",\"Labels\":{\"k\":\"v\"}},"
                + "\"n\":[1,-2.5e3,true,false,null,{}],\"e\":{}} ");
        assertEquals("/web", MiniJson.string(v, "Name"));
        assertEquals("a\"b\u00e9\n", MiniJson.string(v, "Config", "Image"));
        assertEquals(Map.of("k", "v"), MiniJson.object(v, "Config", "Labels"));
        assertEquals(List.of(1.0, -2500.0, true, false), ((List<?>) ((Map<?, ?>) v).get("n")).subList(0, 4));
        assertEquals("", MiniJson.string(v, "missing", "deeper"));
        assertEquals(null, MiniJson.object(v, "Name"));
    }

    @Test
    void malformedInputSaysWhere() {
        for (String bad : new String[] {"{", "{\"a\" 1}", "[1,]", "{\"a\":1} x", "\"\\q\"", "tru", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MiniJson.parse(bad), bad);
            assertTrue(e.getMessage().contains("offset"), e.getMessage());
        }
    }
}
