/**
 * Every component version, image and downloaded binary of the nodes, pinned in ONE place.
 *
 * Binaries that Ignition downloads carry a sha256 that Ignition checks before writing the
 * file (a mismatch fails the boot). No hash here was computed by us or guessed: each one is
 * copied from a published checksum list, cited beside it.
 *
 * Kubernetes: DESIGN.md asks for the 1.36.x line. The newest release whose published
 * kubelet/kubectl sha256 we could find and cite is 1.35.1 (kubespray's checksum list at the
 * commit cited below stops there), so the nodes pin 1.35.1 until 1.36.x hashes are copied in.
 * Kubelet, kube-proxy and the control plane share one version so no skew rule is stretched.
 *
 * Images are pulled by tag (registries serve them over TLS; a digest can be added per image
 * where one is verified).
 */

/** The Kubernetes release of every node component and control-plane image. */
export const KUBERNETES_VERSION = 'v1.35.1';

export interface PinnedBinary {
  readonly version: string;
  readonly url: string;
  /** Ignition verification hash: `sha256-<hex>`. */
  readonly hash: string;
}

// Source: kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml
//   at commit 005bdce7f1867958838a2d0bb4f7e67893d98f64 (kubelet_checksums.amd64."1.35.1").
export const KUBELET: PinnedBinary = {
  version: KUBERNETES_VERSION,
  url: `https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/kubelet`,
  hash: 'sha256-e7343310e03ff0d424df4397bdfa4468947d6d1f0f93dac586c1e8d6e4086d5d',
};

// Source: kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml
//   at commit 005bdce7f1867958838a2d0bb4f7e67893d98f64 (kubectl_checksums.amd64."1.35.1").
export const KUBECTL: PinnedBinary = {
  version: KUBERNETES_VERSION,
  url: `https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/kubectl`,
  hash: 'sha256-36e2f4ac66259232341dd7866952d64a958846470f6a9a6a813b9117bd965207',
};

/** etcd 3.5 (DESIGN: 3.6 moved `snapshot restore` to etcdutl; we stay on 3.5.x for now). */
export const ETCD_VERSION = 'v3.5.27';

// Source: kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml
//   at commit 005bdce7f1867958838a2d0bb4f7e67893d98f64 (etcd_binary_checksums.amd64."3.5.27",
//   the release tarball etcd-v3.5.27-linux-amd64.tar.gz).
export const ETCD_TARBALL: PinnedBinary = {
  version: ETCD_VERSION,
  url: `https://github.com/etcd-io/etcd/releases/download/${ETCD_VERSION}/etcd-${ETCD_VERSION}-linux-amd64.tar.gz`,
  hash: 'sha256-0aad9a9e4e0817a021e933f9806a2b2960a62f949ad5a3d6436d8886945cb1bc',
};

/** containernetworking/plugins: bridge, host-local, portmap, loopback used by flannel's CNI config. */
export const CNI_PLUGINS_VERSION = 'v1.8.0';

// Source: kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml
//   at commit 005bdce7f1867958838a2d0bb4f7e67893d98f64 (cni_binary_checksums.amd64."1.8.0",
//   the tarball cni-plugins-linux-amd64-v1.8.0.tgz).
export const CNI_PLUGINS_TARBALL: PinnedBinary = {
  version: CNI_PLUGINS_VERSION,
  url: `https://github.com/containernetworking/plugins/releases/download/${CNI_PLUGINS_VERSION}/cni-plugins-linux-amd64-${CNI_PLUGINS_VERSION}.tgz`,
  hash: 'sha256-ab3bda535f9d90766cccc90d3dddb5482003dd744d7f22bcf98186bf8eea8be6',
};

/**
 * The kubelet's ECR credential provider (kubernetes/cloud-provider-aws). v1.31.7 is the newest
 * release published to artifacts.k8s.io: the promotion manifests of v1.32.0 and later name
 * their files without the version directory, so nothing is served under v1.3[2-6].x
 * (kubernetes/cloud-provider-aws issues #1324 and #1481, open). It speaks
 * credentialprovider.kubelet.k8s.io/v1, the exec API the 1.35 kubelet serves (GA since 1.26),
 * and is what kOps installs for every Kubernetes version it supports.
 */
export const ECR_CREDENTIAL_PROVIDER_VERSION = 'v1.31.7';

// Source: kubernetes/kops pkg/assets/assetdata/ecr.yaml at commit 268927e26409f861634e18f3632c9dd483c350cf
//   (v1.31.7/linux/amd64/ecr-credential-provider-linux-amd64), the same value as the file
//   promotion manifest kubernetes/k8s.io artifacts/manifests/k8s-staging-provider-aws/v1.31.7.yaml
//   at commit e10ab5f95c9786e66745737e865fd6f593358eae.
export const ECR_CREDENTIAL_PROVIDER: PinnedBinary = {
  version: ECR_CREDENTIAL_PROVIDER_VERSION,
  url: `https://artifacts.k8s.io/binaries/cloud-provider-aws/${ECR_CREDENTIAL_PROVIDER_VERSION}/linux/amd64/ecr-credential-provider-linux-amd64`,
  hash: 'sha256-7644623e4ec9ad443ab352a8a5800a5180ee28741288be805286ba72bb8e7164',
};

/**
 * amazon-eks-pod-identity-webhook: IAM roles for pods (userdata/pod-identity-webhook.ts). The
 * image its release workflow pushes for a tag (aws/amazon-eks-pod-identity-webhook v0.6.17
 * .github/workflows/build.yaml: REPO public.ecr.aws/eks/amazon-eks-pod-identity-webhook, TAG
 * the git ref's name).
 */
export const POD_IDENTITY_WEBHOOK_VERSION = 'v0.6.17';

/** Container images, by tag. */
export const IMAGES = {
  kubeApiServer: `registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}`,
  kubeControllerManager: `registry.k8s.io/kube-controller-manager:${KUBERNETES_VERSION}`,
  kubeScheduler: `registry.k8s.io/kube-scheduler:${KUBERNETES_VERSION}`,
  kubeProxy: `registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`,
  /** The pause image Kubernetes 1.35 expects (kubeadm's default for 1.35). */
  pause: 'registry.k8s.io/pause:3.10.1',
  /** flanneld (vxlan backend) and the image that carries flannel's CNI plugin binary. */
  flannel: 'ghcr.io/flannel-io/flannel:v0.27.3',
  flannelCniPlugin: 'ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel2',
  /** The official AWS CLI v2 image: Flatcar ships no aws cli. */
  awsCli: 'public.ecr.aws/aws-cli/aws-cli:2.31.23',
  podIdentityWebhook: `public.ecr.aws/eks/amazon-eks-pod-identity-webhook:${POD_IDENTITY_WEBHOOK_VERSION}`,
  /** Runs the bundled authn/authz webhook server (plain Node, no dependencies). */
  node: 'docker.io/library/node:22.17.0-alpine3.22',
} as const;
