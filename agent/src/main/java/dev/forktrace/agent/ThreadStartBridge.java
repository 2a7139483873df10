package dev.forktrace.agent;

import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loaded from the bootstrap path; called only when Thread#start throws OutOfMemoryError. */
public final class ThreadStartBridge {
    private ThreadStartBridge() {}

    public static void onStartFailure(Thread newThread, Throwable error) {
        try {
            String line = json(newThread, error);
            if (!send(line)) System.err.println("forktrace-agent: " + line);
        } catch (Throwable t) {
            try { System.err.println("forktrace-agent: report failed: " + t); } catch (Throwable ignored) { }
        }
    }

    static String json(Thread newThread, Throwable error) throws Exception {
        long nanos = java.time.Instant.now().getEpochSecond() * 1_000_000_000L + java.time.Instant.now().getNano();
        String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString(); // "PID/task/TID"
        String[] parts = self.split("/");
        StringBuilder b = new StringBuilder(512).append("{\"pid\":").append(parts[0])
                .append(",\"tid\":").append(parts[2]).append(",\"timeNanos\":").append(nanos)
                .append(",\"threadName\":"); quote(b, Thread.currentThread().getName());
        b.append(",\"newThreadName\":"); quote(b, newThread.getName());
        b.append(",\"error\":"); quote(b, String.valueOf(error.getMessage()));
        b.append(",\"stack\":[");
        StackTraceElement[] stack = error.getStackTrace();
        for (int i = 0; i < stack.length; i++) { if (i > 0) b.append(','); quote(b, stack[i].toString()); }
        return b.append("]}").toString();
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        b.append('"');
    }

    static boolean send(String line) {
        String path = System.getProperty("forktrace.agent.socket");
        if (path == null) path = System.getenv("FORKTRACE_AGENT_SOCKET");
        if (path == null) path = "/run/forktrace/agent.sock";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) ch.write(buf);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
