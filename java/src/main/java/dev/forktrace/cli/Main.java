package dev.forktrace.cli;
public class Main { public static void main(String[] a) { System.out.println(dev.forktrace.proto.v1.Cause.PIDS_CGROUP_LIMIT); } }
