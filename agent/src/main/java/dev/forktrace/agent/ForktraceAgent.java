package dev.forktrace.agent;

import java.io.File;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.jar.JarFile;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Wraps Thread#start in catch (OutOfMemoryError e) { ThreadStartBridge.onStartFailure(this, e); throw e; }.
 * The handler is only an exception-table entry: a start that succeeds runs the original bytecode.
 *
 * <p>Loaded at launch ({@code -javaagent:forktrace-agent.jar[=socket=PATH]}) or into a running JVM
 * ({@code jcmd PID JVMTI.agent_load /path/forktrace-agent.jar [/path/agent.sock]}).
 */
public final class ForktraceAgent {
    /** Set once installed: a second attach must not wrap Thread#start twice (two reports per failure). */
    static final String INSTALLED_PROPERTY = "forktrace.agent.installed";

    public static void premain(String args, Instrumentation inst) { install(args, inst); }
    public static void agentmain(String args, Instrumentation inst) { install(args, inst); }

    static void install(String args, Instrumentation inst) {
        try {
            if (System.getProperty(INSTALLED_PROPERTY) != null) {
                return;
            }
            System.setProperty(INSTALLED_PROPERTY, "true");
            // Thread is a bootstrap class, so the bridge it calls must be visible from the bootstrap loader.
            File jar = new File(ForktraceAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
            // First use of the bridge after the append: it loads from the bootstrap loader, as Thread needs.
            ThreadStartBridge.configure(option(args, "socket"));
            // The nested classes now load from the bootstrap loader (another runtime package), hence public.
            inst.addTransformer(new StartTransformer(), true);
            inst.retransformClasses(Thread.class);
        } catch (Throwable t) {
            System.err.println("forktrace-agent: not installed: " + t);
        }
    }

    /**
     * The value of key=value in the agent's comma-separated options, or null. An absolute path alone is
     * the socket: jcmd's own parser takes "socket=PATH" after JVMTI.agent_load for one of its options.
     */
    static String option(String args, String key) {
        if (args == null) return null;
        for (String part : args.split(",")) {
            if (part.startsWith(key + "=")) return part.substring(key.length() + 1);
            if (key.equals("socket") && part.startsWith("/")) return part;
        }
        return null;
    }

    public static final class StartTransformer implements ClassFileTransformer {
        public StartTransformer() {}
        @Override
        public byte[] transform(Module module, ClassLoader loader, String name, Class<?> cls,
                                ProtectionDomain pd, byte[] bytes) {
            if (!"java/lang/Thread".equals(name)) return null;
            try {
                return instrument(bytes);
            } catch (Throwable t) {
                System.err.println("forktrace-agent: Thread not instrumented: " + t);
                return null;
            }
        }
    }

    public static byte[] instrument(byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(0);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String n, String desc, String sig, String[] ex) {
                MethodVisitor mv = super.visitMethod(access, n, desc, sig, ex);
                return "start".equals(n) && "()V".equals(desc) ? new StartWrapper(mv) : mv;
            }
        }, ClassReader.EXPAND_FRAMES);
        return writer.toByteArray();
    }

    public static final class StartWrapper extends MethodVisitor {
        private final Label begin = new Label();
        public StartWrapper(MethodVisitor mv) { super(Opcodes.ASM9, mv); }

        @Override public void visitCode() { super.visitCode(); super.visitLabel(begin); }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            Label end = new Label(), handler = new Label();
            super.visitLabel(end);
            // Registered last so it is the outermost handler: the original finally blocks still run first.
            super.visitTryCatchBlock(begin, end, handler, "java/lang/OutOfMemoryError");
            super.visitLabel(handler);
            super.visitFrame(Opcodes.F_NEW, 1, new Object[] {"java/lang/Thread"}, 1, new Object[] {"java/lang/OutOfMemoryError"});
            super.visitInsn(Opcodes.DUP);
            super.visitVarInsn(Opcodes.ALOAD, 0);
            super.visitInsn(Opcodes.SWAP);
            super.visitMethodInsn(Opcodes.INVOKESTATIC, "dev/forktrace/agent/ThreadStartBridge", "onStartFailure",
                    "(Ljava/lang/Thread;Ljava/lang/Throwable;)V", false);
            super.visitInsn(Opcodes.ATHROW);
            super.visitMaxs(Math.max(maxStack, 3), Math.max(maxLocals, 1));
        }
    }
}
