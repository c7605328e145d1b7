// The Python client: boto3 (installed by scripts/ensure-test-tools.mjs) drives versioning,
// delete markers, conditional deletes, object lock, lifecycle and bucket policies against the
// real server, and checks S3's answers as boto3 parses them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestServer, tempDir, uniqueBucket, type ITestServer } from './helpers.js';

let server: ITestServer;

before(async () => {
  server = await startTestServer('boto3');
});

after(async () => {
  await server.stop();
});

/** What every script starts with: clients for the server under test, and check() to count. */
const PREAMBLE = String.raw`
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

def client(**s3_config):
    return boto3.client(
        "s3",
        endpoint_url=os.environ["ENDPOINT"],
        aws_access_key_id=os.environ["ACCESS_KEY"],
        aws_secret_access_key=os.environ["SECRET_KEY"],
        region_name=os.environ["REGION"],
        config=Config(s3={"addressing_style": "path"}, **s3_config),
    )

s3 = client()

def error(call, **params):
    try:
        call(**params)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call.__name__} succeeded")

checked = []
def check(name, condition):
    assert condition, name
    checked.append(name)

b = os.environ["BUCKET"]
`;

const VERSIONS_SCRIPT = String.raw`
s3.create_bucket(Bucket=b)
s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
check("versioning enabled", s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled")
v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
check("distinct version ids", v1 != v2)
check("get by version", s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"one")
check("head by version", s3.head_object(Bucket=b, Key="k", VersionId=v1)["VersionId"] == v1)
listed = s3.list_object_versions(Bucket=b)["Versions"]
check("versions newest first", [(v["VersionId"], v["IsLatest"]) for v in listed] == [(v2, True), (v1, False)])

marker = s3.delete_object(Bucket=b, Key="k")
check("delete makes a marker", marker["DeleteMarker"] is True)
check("latest is a marker", error(s3.get_object, Bucket=b, Key="k") == ("NoSuchKey", 404))
markers = s3.list_object_versions(Bucket=b)["DeleteMarkers"]
check("marker listed", [(m["VersionId"], m["IsLatest"]) for m in markers] == [(marker["VersionId"], True)])
s3.delete_object(Bucket=b, Key="k", VersionId=marker["VersionId"])
check("marker removed", s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two")
pages = s3.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 1})
check("paginator", [v["VersionId"] for p in pages for v in p.get("Versions", [])] == [v2, v1])

copied = s3.copy_object(Bucket=b, Key="k", CopySource={"Bucket": b, "Key": "k", "VersionId": v1})
check("restore by copy", copied["CopySourceVersionId"] == v1 and s3.get_object(Bucket=b, Key="k")["Body"].read() == b"one")

upload = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
part = s3.upload_part(Bucket=b, Key="mp", UploadId=upload, PartNumber=1, Body=b"parts")
done = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=upload,
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
check("multipart version", bool(done.get("VersionId")))

deleted = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k", "VersionId": v2}, {"Key": "mp"}]})
by_key = {d["Key"]: d for d in deleted["Deleted"]}
check("delete objects", by_key["k"]["VersionId"] == v2 and by_key["mp"]["DeleteMarker"] is True)

check("conditional delete", error(s3.delete_object, Bucket=b, Key="k", IfMatch='"0000"') == ("PreconditionFailed", 412))

cold1 = s3.put_object(Bucket=b, Key="cold", Body=b"old", StorageClass="GLACIER")["VersionId"]
cold2 = s3.put_object(Bucket=b, Key="cold", Body=b"new", StorageClass="GLACIER")["VersionId"]
restored = s3.restore_object(Bucket=b, Key="cold", VersionId=cold1, RestoreRequest={"Days": 2})
check("restore a version", restored["ResponseMetadata"]["HTTPStatusCode"] == 202
    and s3.get_object(Bucket=b, Key="cold", VersionId=cold1)["Body"].read() == b"old"
    and 'ongoing-request="false"' in s3.head_object(Bucket=b, Key="cold", VersionId=cold1)["Restore"])
check("other version archived", error(s3.get_object, Bucket=b, Key="cold") == ("InvalidObjectState", 403)
    and "Restore" not in s3.head_object(Bucket=b, Key="cold"))

lb = b + "-lock"
s3.create_bucket(Bucket=lb, ObjectLockEnabledForBucket=True)
s3.put_object_lock_configuration(Bucket=lb, ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
locked = s3.put_object(Bucket=lb, Key="r", Body=b"x")["VersionId"]
check("default retention", s3.get_object_retention(Bucket=lb, Key="r", VersionId=locked)["Retention"]["Mode"] == "COMPLIANCE")
check("compliance holds", error(s3.delete_object, Bucket=lb, Key="r", VersionId=locked, BypassGovernanceRetention=True) == ("AccessDenied", 403))
s3.put_object_legal_hold(Bucket=lb, Key="r", VersionId=locked, LegalHold={"Status": "ON"})
check("legal hold", s3.get_object_legal_hold(Bucket=lb, Key="r", VersionId=locked)["LegalHold"]["Status"] == "ON")
check("no suspending", error(s3.put_bucket_versioning, Bucket=lb, VersioningConfiguration={"Status": "Suspended"}) == ("InvalidBucketState", 409))

s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
    {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 3}}]})
rules = s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
check("lifecycle", [(r["ID"], r["Expiration"]["Days"]) for r in rules] == [("logs", 3)])

# Python's http.client sends a str header as Latin-1 (boto3 itself refuses non-ASCII
# metadata); the bytes come back as sent.
import http.client, urllib.parse
endpoint = urllib.parse.urlsplit(os.environ["ENDPOINT"])
connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=30)
connection.request("PUT", f"/{b}/latin", body=b"x", headers={"x-amz-meta-name": "caf\u00e9"})
connection.getresponse().read()
connection.request("HEAD", f"/{b}/latin")
response = connection.getresponse()
response.read()
connection.close()
check("latin-1 metadata byte for byte", response.getheader("x-amz-meta-name").encode("latin-1") == b"caf\xe9")

print(json.dumps({"checked": checked}))
`;

/** Keys with control characters through listings (boto3 asks for encoding-type=url and decodes), and checksum errors. */
const LISTING_SCRIPT = String.raw`
import base64, hashlib
s3.create_bucket(Bucket=b)
keys = ["a\nb", "a\x01c", "a b", "a\tb/c", "plain"]
for key in keys:
    s3.put_object(Bucket=b, Key=key, Body=b"x")
check("v2 prefix with a newline", [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="a\n")["Contents"]] == ["a\nb"])
# S3's reference says ListObjects (v1) URL-encodes Prefix too; botocore decodes it only in v2.
import urllib.parse
v1 = s3.list_objects(Bucket=b, Prefix="a\x01")
check("v1 prefix with a control character", [o["Key"] for o in v1["Contents"]] == ["a\x01c"] and urllib.parse.unquote(v1["Prefix"]) == "a\x01")
delimited = s3.list_objects_v2(Bucket=b, Delimiter="\t")
check("tab delimiter and common prefix", delimited["Delimiter"] == "\t" and delimited["CommonPrefixes"] == [{"Prefix": "a\t"}])
after = s3.list_objects(Bucket=b, Marker="a\n")
check("marker with a newline", after["Marker"] == "a\n" and [o["Key"] for o in after["Contents"]][:2] == ["a\nb", "a b"])
started = s3.list_objects_v2(Bucket=b, StartAfter="a\x01c")
check("start-after with a control character", started["StartAfter"] == "a\x01c" and "a\x01c" not in [o["Key"] for o in started["Contents"]])
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=b, PaginationConfig={"PageSize": 2})
check("paged keys come back whole", sorted(o["Key"] for page in pages for o in page["Contents"]) == sorted(keys))

wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
check("wrong sha256 is BadDigest", error(s3.put_object, Bucket=b, Key="ck", Body=b"data", ChecksumSHA256=wrong) == ("BadDigest", 400))
check("malformed sha256 is InvalidRequest", error(s3.put_object, Bucket=b, Key="ck", Body=b"data", ChecksumSHA256="abc") == ("InvalidRequest", 400))
check("nothing stored", error(s3.head_object, Bucket=b, Key="ck") == ("404", 404))

print(json.dumps({"checked": checked}))
`;

/** Checksums and SigV2 as boto3 sends them, against a server with auth on. */
const SIGNING_SCRIPT = String.raw`
import base64, hashlib, http.client, urllib.parse

# SigV2 (signature_version="s3"): botocore signs a path-style bucket request as "/bucket/".
v2 = client(signature_version="s3")
check("v2 create bucket", v2.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200)
v2.put_object(Bucket=b, Key="a b+c.txt", Body=b"signed with v2")
check("v2 list", [o["Key"] for o in v2.list_objects(Bucket=b)["Contents"]] == ["a b+c.txt"])
v2.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "s3"}]})
check("v2 bucket tagging", v2.get_bucket_tagging(Bucket=b)["TagSet"] == [{"Key": "team", "Value": "s3"}])

endpoint = urllib.parse.urlsplit(os.environ["ENDPOINT"])
def send(method, url, body=None):
    target = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=30)
    connection.request(method, target.path + "?" + target.query, body=body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data

got = send("GET", v2.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "a b+c.txt"}))
check("v2 presigned get", got == (200, b"signed with v2"))
put = send("PUT", v2.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "by-url"}), b"put by url")
check("v2 presigned put", put[0] == 200 and s3.get_object(Bucket=b, Key="by-url")["Body"].read() == b"put by url")
tampered = send("GET", v2.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "by-url"}).replace("by-url", "a%20b%2Bc.txt"))
check("v2 tampered url refused", tampered[0] == 403 and b"SignatureDoesNotMatch" in tampered[1])

# Multipart checksums as boto3 reads them: composite SHA-256 and full-object CRC32.
def multipart(key, algorithm, checksum_type):
    upload = s3.create_multipart_upload(Bucket=b, Key=key, ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)
    check(f"{key}: create says {checksum_type}", upload["ChecksumType"] == checksum_type)
    field = "Checksum" + algorithm
    parts = []
    for number, data in [(1, b"p" * (5 * 1024 * 1024)), (2, b"tail")]:
        part = s3.upload_part(Bucket=b, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=data, ChecksumAlgorithm=algorithm)
        parts.append({"PartNumber": number, "ETag": part["ETag"], field: part[field]})
    done = s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts})
    head = s3.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    attributes = s3.get_object_attributes(Bucket=b, Key=key, ObjectAttributes=["Checksum", "ObjectParts"])
    check(f"{key}: one checksum everywhere", done[field] == head[field] == attributes["Checksum"][field])
    check(f"{key}: one type everywhere", done["ChecksumType"] == head["ChecksumType"] == attributes["Checksum"]["ChecksumType"] == checksum_type)
    check(f"{key}: parts in attributes", attributes["ObjectParts"]["TotalPartsCount"] == 2)
    return done[field], parts

composite, parts = multipart("composite", "SHA256", "COMPOSITE")
part_digests = b"".join(base64.b64decode(p["ChecksumSHA256"]) for p in parts)
check("composite value", composite == base64.b64encode(hashlib.sha256(part_digests).digest()).decode() + "-2")
full, _ = multipart("full", "CRC32", "FULL_OBJECT")
check("full-object value has no part count", "-" not in full)

print(json.dumps({"checked": checked}))
`;

function python(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', [script], { env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs PREAMBLE + `body` against `target` and returns the names of the checks that passed. */
const POLICY_SCRIPT = String.raw`
from botocore import UNSIGNED
s3.create_bucket(Bucket=b)
s3.put_object(Bucket=b, Key="page.html", Body=b"<p>hi</p>")
anonymous = client(signature_version=UNSIGNED)
check("private before", error(anonymous.get_object, Bucket=b, Key="page.html") == ("AccessDenied", 403))
policy = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{b}/*"}],
})
s3.put_bucket_policy(Bucket=b, Policy=policy)
check("policy as put", s3.get_bucket_policy(Bucket=b)["Policy"] == policy)
check("public", s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"] is True)
check("anonymous read", anonymous.get_object(Bucket=b, Key="page.html")["Body"].read() == b"<p>hi</p>")
check("anonymous write refused", error(anonymous.put_object, Bucket=b, Key="x", Body=b"x") == ("AccessDenied", 403))
check("malformed", error(s3.put_bucket_policy, Bucket=b, Policy='{"Statement": []}') == ("MalformedPolicy", 400))
s3.delete_bucket_policy(Bucket=b)
check("gone", error(s3.get_bucket_policy, Bucket=b) == ("NoSuchBucketPolicy", 404))
check("private again", error(anonymous.get_object, Bucket=b, Key="page.html") == ("AccessDenied", 403))
print(json.dumps({"checked": checked}))
`;

async function runChecks(target: ITestServer, body: string): Promise<string[]> {
  const dir = tempDir('boto3-script');
  const script = path.join(dir, 'checks.py');
  fs.writeFileSync(script, PREAMBLE + body);
  const descriptor = await target.smarts3.getS3Descriptor();
  const result = await python(script, {
    ENDPOINT: target.endpoint,
    ACCESS_KEY: descriptor.accessKey,
    SECRET_KEY: descriptor.accessSecret,
    REGION: descriptor.region ?? 'us-east-1',
    BUCKET: uniqueBucket('boto'),
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').pop()!).checked;
}

describe('boto3', () => {
  it('gets S3 answers for versioning, conditional deletes, object lock and lifecycle', async () => {
    const checked = await runChecks(server, VERSIONS_SCRIPT);
    assert.equal(checked.length, 22, `every check ran: ${checked.join(', ')}`);
  });

  it('lists keys with control characters and gets checksum errors', async () => {
    const checked = await runChecks(server, LISTING_SCRIPT);
    assert.equal(checked.length, 9, `every check ran: ${checked.join(', ')}`);
  });

  it('signs with SigV2, reads multipart checksums and applies bucket policies, with auth on', async () => {
    const signing = await startTestServer('boto3-auth', {
      auth: { enabled: true, credentials: [{ accessKeyId: 'AKIDBOTO', secretAccessKey: 'boto/secret+key' }] },
    });
    try {
      const checked = await runChecks(signing, SIGNING_SCRIPT);
      assert.equal(checked.length, 16, `every check ran: ${checked.join(', ')}`);
      const policies = await runChecks(signing, POLICY_SCRIPT);
      assert.equal(policies.length, 8, `every check ran: ${policies.join(', ')}`);
    } finally {
      await signing.stop();
    }
  });
});
