package dev.forktrace.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The build-time drift check: native/layout_dump (compiled from bpf/forktrace.h by CMake) writes every
 * offset and size; Java's EventLayout must agree on all of them, field by field, both ways.
 */
class EventLayoutTest {
    private static final Map<String, StructLayout> STRUCTS = Map.of(
            "ft_event", EventLayout.EVENT,
            "ft_pidns_level", EventLayout.PIDNS_LEVEL,
            "ft_pids_level", EventLayout.PIDS_LEVEL,
            "ft_config", EventLayout.CONFIG,
            "ft_signature", EventLayout.SIGNATURE,
            "ft_hook_status", EventLayout.HOOK_STATUS);

    private static List<String[]> dump() throws IOException {
        String location = System.getProperty("forktrace.layoutDump", "build/out/event_layout.txt");
        Path file = Path.of(location);
        if (!Files.isReadable(file)) {
            fail(file + " is missing: build the C side first (cmake -S . -B build && cmake --build build); "
                    + "it is what Java's event layout is checked against");
        }
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                rows.add(line.trim().split("\\s+"));
            }
        }
        return rows;
    }

    @Test
    void everyCFieldHasTheSameOffsetAndSizeInJava() throws IOException {
        Map<String, long[]> cFields = new LinkedHashMap<>();
        for (String[] row : dump()) {
            if (row[0].equals("const") || row[0].equals("hook")) {
                continue;
            }
            if (row[1].equals("sizeof")) {
                StructLayout java = STRUCTS.get(row[0]);
                assertTrue(java != null, "C struct " + row[0] + " has no Java layout");
                assertEquals(Long.parseLong(row[2]), java.byteSize(), "sizeof(struct " + row[0] + ")");
                continue;
            }
            cFields.put(row[0], new long[] {Long.parseLong(row[1]), Long.parseLong(row[2])});
        }
        assertTrue(cFields.size() > 40, "the layout dump lists too few fields: " + cFields.size());
        for (Map.Entry<String, long[]> c : cFields.entrySet()) {
            String[] name = c.getKey().split("\\.", 2);
            StructLayout java = STRUCTS.get(name[0]);
            assertTrue(java != null, "C struct " + name[0] + " has no Java layout");
            MemoryLayout member = java.memberLayouts().stream()
                    .filter(m -> m.name().orElse("").equals(name[1])).findFirst()
                    .orElseThrow(() -> new AssertionError("Java's " + name[0] + " lacks C field " + name[1]));
            assertEquals(c.getValue()[0], java.byteOffset(MemoryLayout.PathElement.groupElement(name[1])),
                    "offset of " + c.getKey());
            assertEquals(c.getValue()[1], member.byteSize(), "size of " + c.getKey());
        }
        for (Map.Entry<String, StructLayout> java : STRUCTS.entrySet()) {
            for (MemoryLayout member : ((GroupLayout) java.getValue()).memberLayouts()) {
                String key = java.getKey() + "." + member.name().orElseThrow();
                assertTrue(cFields.containsKey(key), "Java field " + key + " is not in bpf/forktrace.h");
            }
        }
    }

    @Test
    void constantsMatchTheHeader() throws IOException, ReflectiveOperationException {
        // Every constant the dump prints (sizes, counter slots, enum values) exists in EventLayout under
        // its C name without the FT_ prefix, with the same value.
        int checked = 0;
        for (String[] row : dump()) {
            if (row[0].equals("const")) {
                Field field = EventLayout.class.getField(row[1].substring("FT_".length()));
                assertEquals(Long.parseLong(row[2]), ((Number) field.get(null)).longValue(), row[1]);
                checked++;
            }
        }
        assertTrue(checked >= 30, "constants found in the layout dump: " + checked);
    }

    @Test
    void hookPointsAreTheShimsHookTableInOrder() throws IOException {
        // "hook ID NAME" for every entry of FT_HOOKS: the Java enum must have the same ids, names and count.
        List<String> shim = new ArrayList<>();
        for (String[] row : dump()) {
            if (row[0].equals("hook")) {
                assertEquals(shim.size(), Integer.parseInt(row[1]), "id of hook " + row[2]);
                shim.add(row[2]);
            }
        }
        List<String> javaNames = java.util.Arrays.stream(HookPoint.values()).map(HookPoint::hookName).toList();
        assertEquals(shim, javaNames, "HookPoint against native/forktrace_shim.h FT_HOOKS");
        assertEquals(EventLayout.HOOK_COUNT, javaNames.size(), "HOOK_COUNT");
    }
}
