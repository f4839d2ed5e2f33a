package dev.kiln.sandbox;

/**
 * An instance's own network namespace, joined to the host by a veth pair of its own.
 *
 * <p>The host's side (the namespace, the pair, the host end's address and its neighbour entry) is
 * always made. The inside ({@code eth0}'s address, {@code lo} and {@code eth0} up, the neighbour
 * entry for the host's end, the default route) is either made too ({@code configured}: a spare,
 * made ahead) or left to whoever starts the instance in it (a namespace made on demand in a burst,
 * with others in one {@code ip} run; see {@link NetworkNamespaces}): a bubblewrap start runs one
 * {@code ip} for it, an instance forked from a zygote sets it up itself, from its init.
 *
 * @param namespace the namespace's name under {@code /run/netns}
 * @param hostAddress the host's end of the pair: where the instance reaches the Runtime API
 * @param instanceAddress the instance's end, {@code eth0} inside the namespace
 * @param slot which /30 of the address range the pair holds
 * @param configured whether the inside is set up already
 * @param defaultRoute whether the inside has (or is to get) a default route through the host
 */
public record InstanceNetwork(
    String namespace,
    String hostAddress,
    String instanceAddress,
    int slot,
    boolean configured,
    boolean defaultRoute) {

  public String namespacePath() {
    return "/run/netns/" + namespace;
  }

  /** The hardware address of the host's end, which the inside's neighbour entry names. */
  public String hostMac() {
    return NetworkNamespaces.mac(0, slot);
  }

  InstanceNetwork asConfigured() {
    return new InstanceNetwork(namespace, hostAddress, instanceAddress, slot, true, defaultRoute);
  }

  InstanceNetwork withoutDefaultRoute() {
    return new InstanceNetwork(namespace, hostAddress, instanceAddress, slot, configured, false);
  }
}
