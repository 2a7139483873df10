package dev.forktrace.system;

import java.util.List;
import java.util.Set;

/** Recognises a JVM from its command line and names what it runs (main class, -jar, -m module). */
public final class JvmInfo {
    /** Launcher options that take the next argument as their value. */
    private static final Set<String> OPTIONS_WITH_VALUE = Set.of("-cp", "-classpath", "--class-path", "-p",
            "--module-path", "--upgrade-module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads",
            "--patch-module", "--limit-modules", "--enable-native-access");

    private JvmInfo() {}

    public static boolean isJava(String processComm, List<String> argv) {
        if (processComm.equals("java")) {
            return true;
        }
        if (argv.isEmpty()) {
            return false;
        }
        String launcher = argv.get(0);
        return launcher.equals("java") || launcher.endsWith("/java");
    }

    /** "-jar app.jar", "-m mod/Main", the main class, a source file, or "" when none is found. */
    public static String mainOf(List<String> argv) {
        for (int i = 1; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.equals("-jar") || arg.equals("-m") || arg.equals("--module")) {
                return i + 1 < argv.size() ? arg + " " + argv.get(i + 1) : arg;
            }
            if (OPTIONS_WITH_VALUE.contains(arg)) {
                i++;
            } else if (!arg.startsWith("-")) {
                return arg;
            }
        }
        return "";
    }
}
