package dev.forktrace.agentlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AgentMessageTest {
    /** A line as agent/ThreadStartBridge writes it (copied from a JDK 25 run). */
    static final String FAILURE = "{\"type\":\"failure\",\"pid\":10288,\"tid\":10289,\"monotonicNanos\":21644768266477,"
            + "\"wallNanos\":1795383495311134228,\"threadName\":\"main\",\"newThreadName\":\"bomb-42\",\"error\":"
            + "\"unable to create native thread: possibly out of memory or process/resource limits reached\",\"stack\":["
            + "\"java.base/java.lang.Thread.start0(Native Method)\",\"java.base/java.lang.Thread.start(Thread.java:1417)\","
            + "\"ThreadBomb.startOne(ThreadBomb.java:19)\",\"ThreadBomb.main(ThreadBomb.java:11)\"],\"main\":\"ThreadBomb\"}";

    @Test
    void parsesTheAgentsFailureLine() {
        AgentMessage m = AgentMessage.parse(FAILURE);
        assertEquals(AgentMessage.Kind.FAILURE, m.kind());
        assertEquals(10288, m.pid());
        assertEquals(10289, m.tid());
        assertEquals(21644768266477L, m.monotonicNanos());
        assertEquals(1795383495311134228L, m.wallNanos());
        assertEquals("main", m.threadName());
        assertEquals("bomb-42", m.newThreadName());
        assertEquals("ThreadBomb", m.main());
        assertEquals(4, m.stack().size());
        assertEquals("ThreadBomb.startOne(ThreadBomb.java:19)", m.stack().get(2));
    }

    @Test
    void parsesHelloAndTheFirstAgentVersionsUntypedLine() {
        AgentMessage hello = AgentMessage.parse("{\"type\":\"hello\",\"pid\":7,\"javaVersion\":\"17.0.15\"}");
        assertEquals(AgentMessage.Kind.HELLO, hello.kind());
        assertEquals(7, hello.pid());
        assertEquals("17.0.15", hello.javaVersion());
        AgentMessage old = AgentMessage.parse("{\"pid\":7,\"tid\":8,\"timeNanos\":1,\"stack\":[]}");
        assertEquals(AgentMessage.Kind.FAILURE, old.kind());
        assertEquals(List.of(), old.stack());
    }

    @Test
    void refusesGarbageWithAReason() {
        for (String bad : List.of("", "garbage", "{", "[1,2]", "\"text\"", "{\"pid\":1,\"tid\":2}{}",
                "{pid:1,tid:2}", "{\"pid\":-1,\"tid\":2}", "{\"pid\":\"1\",\"tid\":2}", "{\"tid\":2}",
                "{\"pid\":1}", "{\"pid\":1,\"tid\":2.5}", "{\"pid\":1e30,\"tid\":2}", "{\"pid\":1,\"tid\":2,\"stack\":\"x\"}",
                "{\"pid\":1,\"tid\":2,\"stack\":[1]}", "{\"pid\":1,\"tid\":2,\"threadName\":{}}",
                "{\"type\":\"bye\",\"pid\":1}", "\u0000\u0001")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentMessage.parse(bad), bad);
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), bad);
        }
    }

    @Test
    void boundsWhatItKeeps() {
        StringBuilder b = new StringBuilder("{\"pid\":1,\"tid\":2,\"newThreadName\":\"");
        b.append("x".repeat(10_000)).append("\",\"stack\":[");
        for (int i = 0; i < 5000; i++) {
            b.append(i == 0 ? "" : ",").append("\"f").append(i).append('"');
        }
        AgentMessage m = AgentMessage.parse(b.append("]}").toString());
        assertEquals(AgentMessage.MAX_STRING, m.newThreadName().length());
        assertEquals(AgentMessage.MAX_FRAMES, m.stack().size());
        assertEquals("f0", m.stack().get(0));
    }

    @Test
    void nestingIsBoundedBeforeTheTreeReaderRecurses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AgentMessage.parse("[".repeat(100_000) + "]".repeat(100_000)));
        assertTrue(e.getMessage().contains("nested deeper than"), e.getMessage());
        assertEquals(2, AgentMessage.nestingDepth("{\"stack\":[\"a[{[{\\\"[\"]}"));
        assertEquals(0, AgentMessage.nestingDepth("\"[[[[\""));
    }
}
