// Bundled for the browser suite with esbuild: the parts of the AWS SDK the test page uses.
export { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
