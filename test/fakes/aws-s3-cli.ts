/**
 * A stand-in for the AWS CLI's S3 calls that the etcd members' scripts make, backed by a
 * directory: object KEY of the bucket is the file $FAKE/s3/KEY, its metadata ("k=v,k=v", as
 * given to --metadata) the file $FAKE/s3/KEY.meta. Every call is appended to $FAKE/aws.log.
 * $FAKE/s3-error makes every call fail as a forbidden or unreachable S3 would. A call to
 * another bucket, or one the scripts do not make, fails: the fake accepts nothing it does not
 * understand. Used by the scripts' unit tests (test/userdata/etcd-scripts.test.ts) and by the
 * members of the real-etcd tests (test/integration/member-host.ts).
 */
export function fakeAwsS3Cli(bucket: string): string {
  return `#!/bin/bash
echo "$*" >>"$FAKE/aws.log"
if [ -f "$FAKE/s3-error" ]; then echo "An error occurred (403) when calling the $2 operation: Forbidden" >&2; exit 254; fi
arg() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
no_bucket() { echo "An error occurred (NoSuchBucket) when calling the $1 operation: not the fake's bucket ${bucket}" >&2; exit 254; }
obj() { [[ $1 == s3://${bucket}/* ]] || no_bucket CopyObject; echo "$FAKE/s3/\${1#s3://${bucket}/}"; }
# metadata_field FILE: the field of FILE's metadata that --query Metadata.NAME asks for;
# None for a missing one, as the real CLI prints with --output text.
metadata_field() {
  local name value
  name=$(arg --query "\${@:2}"); name=\${name#Metadata.}; name=\${name//\\"/}
  value=$(tr , '\\n' <"$1.meta" | sed -n "s/^$name=//p")
  echo "\${value:-None}"
}
case "$1 $2" in
  "s3api head-object" | "s3api get-object")
    [ "$(arg --bucket "$@")" = ${bucket} ] || no_bucket GetObject
    f="$FAKE/s3/$(arg --key "$@")"
    [ -f "$f" ] || { echo "An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 254; }
    # get-object writes the body to its last argument and prints the metadata of that same object.
    if [ "$2" = get-object ]; then cp "$f" "\${@: -1}"; fi
    metadata_field "$f" "$@" ;;
  "s3api put-object")
    [ "$(arg --bucket "$@")" = ${bucket} ] || no_bucket PutObject
    f="$FAKE/s3/$(arg --key "$@")"; mkdir -p "$(dirname "$f")"; : >"$f"; arg --metadata "$@" >"$f.meta" ;;
  "s3 cp")
    args=("$@"); n=\${#args[@]}; from=\${args[n-2]}; to=\${args[n-1]}
    to=$(obj "$to"); mkdir -p "$(dirname "$to")"
    if [ "$from" = - ]; then cat >"$to"; else cp "$(obj "$from")" "$to"; fi
    arg --metadata "$@" >"$to.meta" ;;
  *) echo "fake aws: unexpected $*" >&2; exit 2 ;;
esac
`;
}
