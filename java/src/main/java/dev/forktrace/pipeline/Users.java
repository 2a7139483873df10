package dev.forktrace.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** "uid 1000 (alice)" from /etc/passwd, read once. */
public final class Users {
    private static final long REREAD_NANOS = 1_000_000_000L;
    private static Map<Integer, String> names;
    private static long readAt;

    private Users() {}

    /** uid to "uid 1000 (alice)" for every user of /etc/passwd now (empty when it cannot be read). */
    public static Map<Integer, String> read() {
        Map<Integer, String> names = new HashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] fields = line.split(":");
                if (fields.length > 2) {
                    try {
                        int user = Integer.parseInt(fields[2]);
                        names.putIfAbsent(user, "uid " + user + " (" + fields[0] + ")");
                    } catch (NumberFormatException e) {
                        // a malformed line names nobody
                    }
                }
            }
        } catch (IOException e) {
            // without /etc/passwd the uid alone names the user
        }
        return names;
    }

    public static synchronized String describe(int uid) {
        if (names == null) {
            readAt = System.nanoTime();
            names = read();
        }
        String described = names.get(uid); // built once: a storm describes the same user thousands of times
        if (described == null) {
            if (System.nanoTime() - readAt > REREAD_NANOS) { // a user created after we read the file
                names = null;
            }
            return "uid " + uid;
        }
        return described;
    }
}
