/** The kubelet's API (logs, exec, metrics): reached from the masters only. */
export const KUBELET_PORT = 10250;
/** flannel's VXLAN overlay (the Linux kernel's port for VXLAN), between all Kubernetes nodes. */
export const FLANNEL_VXLAN_PORT = 8472;
