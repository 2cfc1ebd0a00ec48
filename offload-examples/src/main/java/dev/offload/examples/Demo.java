package dev.offload.examples;

/** The README's demo: first the decisions in-process, then the same ideas on a live gateway. */
public final class Demo {
  private Demo() {}

  /** Runs both parts. */
  public static void main(String[] args) throws Exception {
    System.out.println("=== 1. decisions, in-process (what your unit tests see) ===");
    System.out.println();
    DecisionsDemo.run(System.out);
    System.out.println();
    System.out.println("=== 2. a live gateway on loopback (JDK HttpServer + offload) ===");
    System.out.println();
    GatewayDemo.run(System.out);
  }
}
