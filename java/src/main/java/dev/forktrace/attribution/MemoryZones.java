package dev.forktrace.attribution;

import java.util.ArrayList;
import java.util.List;

/**
 * The page allocator's zones as /proc/zoneinfo and /proc/buddyinfo show them right after a failure: free
 * pages against the min/low/high watermarks, and free blocks per order. An allocation without access to
 * reserves fails when the zone is below its min watermark, and one of order N also needs a free block of
 * order N or more: these two say whether an ENOMEM was a real shortage (or fragmentation). Pure parsing.
 */
public final class MemoryZones {
    private MemoryZones() {}

    /** One populated zone; freeBlocks[order] from buddyinfo (empty when not read). */
    public record Zone(int node, String name, long freePages, long minPages, long lowPages, long highPages,
            long managedPages, long[] freeBlocks) {
        /** Free blocks of at least {@code order} pages (2^order each); -1 without buddyinfo. */
        public long freeBlocksAtLeast(int order) {
            if (freeBlocks.length == 0) {
                return -1;
            }
            long n = 0;
            for (int i = Math.max(0, order); i < freeBlocks.length; i++) {
                n += freeBlocks[i];
            }
            return n;
        }

        /** "below_min_watermark", "below_low_watermark", "below_high_watermark" or "above_high_watermark". */
        public String watermarkRelation() {
            if (freePages < minPages) {
                return "below_min_watermark";
            }
            if (freePages < lowPages) {
                return "below_low_watermark";
            }
            return freePages < highPages ? "below_high_watermark" : "above_high_watermark";
        }

        public String label() {
            return "node " + node + " zone " + name;
        }
    }

    /** Zones with managed pages from /proc/zoneinfo's text, with buddyinfo's counts joined when given. */
    public static List<Zone> parse(String zoneinfo, String buddyinfo) {
        List<Zone> zones = new ArrayList<>();
        int node = -1;
        String name = null;
        long free = -1, min = -1, low = -1, high = -1, managed = -1;
        for (String raw : zoneinfo.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("Node ") && line.contains(", zone")) {
                if (name != null) {
                    add(zones, node, name, free, min, low, high, managed, buddyinfo);
                }
                node = parseInt(line.substring(5, line.indexOf(',')).trim());
                name = line.substring(line.indexOf("zone") + 4).trim();
                free = min = low = high = managed = -1;
                continue;
            }
            if (name == null) {
                continue;
            }
            String[] words = line.split("\\s+");
            if (words.length == 3 && words[0].equals("pages") && words[1].equals("free")) {
                free = parseLong(words[2]);
            } else if (words.length == 2) {
                switch (words[0]) {
                    case "min" -> min = parseLong(words[1]);
                    case "low" -> low = parseLong(words[1]);
                    case "high" -> high = parseLong(words[1]);
                    case "managed" -> managed = parseLong(words[1]);
                    default -> { }
                }
            }
        }
        if (name != null) {
            add(zones, node, name, free, min, low, high, managed, buddyinfo);
        }
        return zones;
    }

    private static void add(List<Zone> zones, int node, String name, long free, long min, long low, long high,
            long managed, String buddyinfo) {
        if (managed <= 0 || free < 0 || min < 0) {
            return; // unpopulated zone (e.g. Movable, Device) or a format this parser does not know
        }
        zones.add(new Zone(node, name, free, min, low, high, managed, blocks(buddyinfo, node, name)));
    }

    /** buddyinfo: "Node 0, zone   Normal    12     7     3 ..." (free blocks of order 0, 1, 2, ...). */
    static long[] blocks(String buddyinfo, int node, String zone) {
        if (buddyinfo == null) {
            return new long[0];
        }
        for (String line : buddyinfo.split("\n")) {
            String[] words = line.trim().split("[\\s,]+");
            if (words.length > 4 && words[0].equals("Node") && words[2].equals("zone")
                    && parseInt(words[1]) == node && words[3].equals(zone)) {
                long[] counts = new long[words.length - 4];
                for (int i = 0; i < counts.length; i++) {
                    counts[i] = parseLong(words[i + 4]);
                }
                return counts;
            }
        }
        return new long[0];
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int parseInt(String s) {
        return (int) parseLong(s);
    }
}
