package dev.forktrace.agentlink;

import dev.forktrace.bpf.Libc;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;

/**
 * The --agent-socket option of watch and run: the listener and the joiner together, or a note saying why
 * there is none. {@link #joiner()} is null when not listening, so the per-event path has nothing to do.
 */
public final class AgentLink implements AutoCloseable {
    public static final String DEFAULT_SOCKET = "/run/forktrace/agent.sock";
    public static final String OFF = "off";

    private final AgentListener listener;
    private final JavaJoiner joiner;
    private final String note;

    private AgentLink(AgentListener listener, JavaJoiner joiner, String note) {
        this.listener = listener;
        this.joiner = joiner;
        this.note = note;
    }

    /**
     * Listens on option ("off" for none). The default path may be unusable (not root, /run read-only): that
     * is a note, not an error. A path the user named must work, else IOException.
     */
    public static AgentLink open(String option, PrintStream log) throws IOException {
        if (option.equals(OFF)) {
            return new AgentLink(null, null, "agent socket off");
        }
        Instant wall = Instant.now();
        long monotonic = Libc.monotonicNanos();
        JavaJoiner joiner = new JavaJoiner(Libc::monotonicNanos,
                wall.getEpochSecond() * 1_000_000_000L + wall.getNano() - monotonic);
        try {
            AgentListener listener = AgentListener.open(Path.of(option), option.equals(DEFAULT_SOCKET), joiner, log);
            return new AgentLink(listener, joiner, "agent socket " + option + " listening");
        } catch (IOException | RuntimeException e) {
            if (!option.equals(DEFAULT_SOCKET)) {
                throw new IOException("cannot listen on " + option + ": " + describe(e), e);
            }
            return new AgentLink(null, null, "agent socket " + option + " not listening (" + describe(e) + ")");
        }
    }

    private static String describe(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** The joiner for Capture, or null when not listening. */
    public JavaJoiner joiner() {
        return joiner;
    }

    /** For the attached line: "agent socket PATH listening", "... not listening (why)" or "agent socket off". */
    public String note() {
        return note;
    }

    /** One line for the end-of-capture summary, or null when no agent ever connected. */
    public String summary() {
        AgentListener.Refusals refused = listener == null ? null : listener.refusals();
        if (listener == null || listener.connections() == 0 && refused.total() == 0) {
            return null;
        }
        return "forktrace: java agent: " + listener.connections() + " connection(s), " + joiner.reports()
                + " failed Thread.start report(s), " + joiner.joined() + " joined with a kernel event, "
                + joiner.unjoinedReports() + " without one; " + joiner.unjoinedEvents()
                + " thread failure(s) of agent JVMs without a report" + (listener.badInput() > 0
                ? "; " + listener.badInput() + " bad input(s) ignored" : "")
                + (refused.total() > 0 ? "; refused: " + refused : "");
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close();
        }
    }
}
