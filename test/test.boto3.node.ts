// The Python client: boto3 (installed by scripts/ensure-test-tools.mjs) drives versioning,
// delete markers, conditional deletes, object lock and lifecycle against the real server, and
// checks S3's answers as boto3 parses them.
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

const SCRIPT = String.raw`
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["ENDPOINT"],
    aws_access_key_id=os.environ["ACCESS_KEY"],
    aws_secret_access_key=os.environ["SECRET_KEY"],
    region_name=os.environ["REGION"],
    config=Config(s3={"addressing_style": "path"}),
)

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

print(json.dumps({"checked": checked}))
`;

function python(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', [script], { env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('boto3', () => {
  it('gets S3 answers for versioning, conditional deletes, object lock and lifecycle', async () => {
    const dir = tempDir('boto3-script');
    const script = path.join(dir, 'versions.py');
    fs.writeFileSync(script, SCRIPT);
    const descriptor = await server.smarts3.getS3Descriptor();
    const result = await python(script, {
      ENDPOINT: server.endpoint,
      ACCESS_KEY: descriptor.accessKey,
      SECRET_KEY: descriptor.accessSecret,
      REGION: descriptor.region ?? 'us-east-1',
      BUCKET: uniqueBucket('boto'),
    });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(result.code, 0, result.stderr);
    const { checked } = JSON.parse(result.stdout.trim().split('\n').pop()!);
    assert.equal(checked.length, 19, `every check ran: ${checked.join(', ')}`);
  });
});
