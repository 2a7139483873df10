package dev.forktrace.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JvmInfoTest {
    @Test
    void findsTheMainClassAfterOptionsThatTakeValues() {
        assertEquals("com.acme.Server", JvmInfo.mainOf(List.of("/usr/bin/java", "-Xmx1g", "-cp", "a.jar:b.jar",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "com.acme.Server", "--port", "8080")));
    }

    @Test
    void namesJarsModulesAndSourceFiles() {
        assertEquals("-jar app.jar", JvmInfo.mainOf(List.of("java", "-XX:+UseG1GC", "-jar", "app.jar", "x")));
        assertEquals("-m mod/app.Main", JvmInfo.mainOf(List.of("java", "-m", "mod/app.Main")));
        assertEquals("Spawner.java", JvmInfo.mainOf(List.of("java", "Spawner.java")));
        assertEquals("", JvmInfo.mainOf(List.of("java", "-version")));
    }

    @Test
    void recognisesJavaByProcessNameOrLauncherPath() {
        assertTrue(JvmInfo.isJava("java", List.of()));
        assertTrue(JvmInfo.isJava("main", List.of("/usr/lib/jvm/x/bin/java", "-jar", "a.jar")));
        assertFalse(JvmInfo.isJava("bash", List.of("bash", "-c", "java")));
    }
}
