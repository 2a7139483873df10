package dev.forktrace.cli;

import dev.forktrace.agentlink.AgentLink;
import java.io.IOException;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/** Where the forktrace Java agent's reports arrive: --agent-socket, the same for watch and run. */
final class AgentOptions {
    @Option(names = "--agent-socket", paramLabel = "PATH",
            description = "Unix socket for the forktrace Java agent's reports (Java stack of a failed Thread.start), "
                    + "or off. Default: " + AgentLink.DEFAULT_SOCKET + " when it can be created.")
    String socket = AgentLink.DEFAULT_SOCKET;

    AgentLink open(PrintStream err) throws IOException {
        return AgentLink.open(socket, err);
    }
}
