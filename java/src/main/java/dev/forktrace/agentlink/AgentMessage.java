package dev.forktrace.agentlink;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

/**
 * One line from the forktrace agent (agent/): a {@code hello} when a JVM connects, or a {@code failure}
 * for a Thread.start that threw OutOfMemoryError. {@link #parse} accepts only well-formed, bounded input:
 * the socket is open to every local user.
 */
public record AgentMessage(Kind kind, int pid, int tid, long monotonicNanos, long wallNanos, String javaVersion,
        String threadName, String newThreadName, String error, String main, List<String> stack) {
    public enum Kind { HELLO, FAILURE }

    static final int MAX_FRAMES = 1024;
    static final int MAX_STRING = 4096;
    /** A real message nests 2 deep; Gson's tree reader recurses per level, so depth is checked first. */
    static final int MAX_DEPTH = 32;
    private static final TypeAdapter<JsonElement> JSON = new Gson().getAdapter(JsonElement.class);

    /** Parses one line (without its newline); IllegalArgumentException names what is wrong. */
    public static AgentMessage parse(String line) {
        int depth = nestingDepth(line);
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
        JsonObject o;
        try {
            // A strict reader (JsonParser would be lenient and accept unquoted words), and nothing after the object.
            JsonReader reader = new JsonReader(new StringReader(line));
            reader.setLenient(false);
            JsonElement e = JSON.read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException("text after the JSON object");
            }
            if (e == null || !e.isJsonObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            o = e.getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
        String type = string(o, "type", "failure"); // the first agent version had no type: a failure
        int pid = positiveInt(o, "pid");
        return switch (type) {
            case "hello" -> new AgentMessage(Kind.HELLO, pid, 0, 0, 0, string(o, "javaVersion", ""), "", "", "", "",
                    List.of());
            case "failure" -> new AgentMessage(Kind.FAILURE, pid, positiveInt(o, "tid"), number(o, "monotonicNanos"),
                    number(o, "wallNanos"), "", string(o, "threadName", ""), string(o, "newThreadName", ""),
                    string(o, "error", ""), string(o, "main", ""), stack(o));
            default -> throw new IllegalArgumentException("unknown type '" + clip(type) + "'");
        };
    }

    /** The deepest nesting of [ and { outside strings (the text need not be valid JSON). */
    static int nestingDepth(String text) {
        int depth = 0;
        int max = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (inString) {
                if (ch == '\\') {
                    i++;
                } else if (ch == '"') {
                    inString = false;
                }
            } else if (ch == '"') {
                inString = true;
            } else if (ch == '[' || ch == '{') {
                max = Math.max(max, ++depth);
            } else if (ch == ']' || ch == '}') {
                depth--;
            }
        }
        return max;
    }

    /** Roughly the characters this message holds (the joiner's budget for pending reports). */
    long approximateChars() {
        long n = 64L + javaVersion.length() + threadName.length() + newThreadName.length() + error.length() + main.length();
        for (String frame : stack) {
            n += 16 + frame.length();
        }
        return n;
    }

    private static int positiveInt(JsonObject o, String key) {
        long v = number(o, key);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + " " + v + " is not a valid id");
        }
        return (int) v;
    }

    /** A JSON integer; 0 when absent (both clocks are optional, one is enough). */
    private static long number(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            if (key.equals("pid") || key.equals("tid")) {
                throw new IllegalArgumentException("no " + key);
            }
            return 0;
        }
        try {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw new NumberFormatException();
            }
            return e.getAsBigDecimal().longValueExact();
        } catch (NumberFormatException | ArithmeticException x) {
            throw new IllegalArgumentException(key + " is not an integer");
        }
    }

    private static String string(JsonObject o, String key, String absent) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return absent;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(key + " is not a string");
        }
        return clip(e.getAsString());
    }

    private static List<String> stack(JsonObject o) {
        JsonElement e = o.get("stack");
        if (e == null || e.isJsonNull()) {
            return List.of();
        }
        if (!e.isJsonArray()) {
            throw new IllegalArgumentException("stack is not an array");
        }
        JsonArray frames = e.getAsJsonArray();
        List<String> stack = new ArrayList<>(Math.min(frames.size(), MAX_FRAMES));
        for (JsonElement frame : frames) {
            if (!frame.isJsonPrimitive() || !frame.getAsJsonPrimitive().isString()) {
                throw new IllegalArgumentException("a stack frame is not a string");
            }
            if (stack.size() < MAX_FRAMES) { // a deep recursion is cut, not refused
                stack.add(clip(frame.getAsString()));
            }
        }
        return List.copyOf(stack);
    }

    private static String clip(String s) {
        return s.length() <= MAX_STRING ? s : s.substring(0, MAX_STRING);
    }
}
