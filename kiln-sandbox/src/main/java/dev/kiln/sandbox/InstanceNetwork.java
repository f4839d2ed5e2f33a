package dev.kiln.sandbox;

/**
 * An instance's own network namespace, joined to the host by a veth pair of its own.
 *
 * @param namespace the namespace's name under {@code /run/netns}
 * @param hostAddress the host's end of the pair: where the instance reaches the Runtime API
 * @param instanceAddress the instance's end, {@code eth0} inside the namespace
 * @param slot which /30 of the address range the pair holds
 */
public record InstanceNetwork(
    String namespace, String hostAddress, String instanceAddress, int slot) {

  public String namespacePath() {
    return "/run/netns/" + namespace;
  }
}
