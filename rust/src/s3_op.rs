//! The typed S3 operation a request asks for. The router fills it once; handlers consume it and
//! never re-read the URL.

/// Decoded query parameters, in request order. Names are case-sensitive, as in S3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// Parameters shared by ListObjects (v1) and ListObjectsV2, raw as sent; handlers validate them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub max_keys: Option<String>,
    pub encoding_type: Option<String>,
    /// v1 only.
    pub marker: Option<String>,
    /// v2 only.
    pub continuation_token: Option<String>,
    /// v2 only.
    pub start_after: Option<String>,
    /// v2 only.
    pub fetch_owner: Option<String>,
    /// ListObjectVersions only.
    pub key_marker: Option<String>,
    /// ListObjectVersions only.
    pub version_id_marker: Option<String>,
}

impl ListParams {
    pub fn from_query(query: &Query) -> Self {
        let get = |name: &str| query.get(name).map(str::to_string);
        Self {
            prefix: get("prefix"),
            delimiter: get("delimiter"),
            max_keys: get("max-keys"),
            encoding_type: get("encoding-type"),
            marker: get("marker"),
            continuation_token: get("continuation-token"),
            start_after: get("start-after"),
            fetch_owner: get("fetch-owner"),
            key_marker: get("key-marker"),
            version_id_marker: get("version-id-marker"),
        }
    }
}

/// Parameters of ListBuckets, raw as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketListParams {
    pub max_buckets: Option<String>,
    pub continuation_token: Option<String>,
    pub prefix: Option<String>,
    pub bucket_region: Option<String>,
}

impl BucketListParams {
    pub fn from_query(query: &Query) -> Self {
        let get = |name: &str| query.get(name).map(str::to_string);
        Self {
            max_buckets: get("max-buckets"),
            continuation_token: get("continuation-token"),
            prefix: get("prefix"),
            bucket_region: get("bucket-region"),
        }
    }
}

/// Parameters of ListMultipartUploads, raw as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadListParams {
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max_uploads: Option<String>,
    pub encoding_type: Option<String>,
}

impl UploadListParams {
    pub fn from_query(query: &Query) -> Self {
        let get = |name: &str| query.get(name).map(str::to_string);
        Self {
            prefix: get("prefix"),
            delimiter: get("delimiter"),
            key_marker: get("key-marker"),
            upload_id_marker: get("upload-id-marker"),
            max_uploads: get("max-uploads"),
            encoding_type: get("encoding-type"),
        }
    }
}

/// Identifies one multipart upload of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

/// Response header overrides of a GET (`response-content-type=…` etc.).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides(pub Vec<(&'static str, String)>);

impl ResponseOverrides {
    const PARAMS: [(&'static str, &'static str); 6] = [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ];

    pub fn from_query(query: &Query) -> Self {
        Self(
            Self::PARAMS
                .iter()
                .filter_map(|(param, header)| query.get(param).map(|v| (*header, v.to_string())))
                .collect(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Op {
    ListBuckets {
        params: BucketListParams,
    },
    CreateBucket {
        bucket: String,
    },
    HeadBucket {
        bucket: String,
    },
    DeleteBucket {
        bucket: String,
    },
    GetBucketLocation {
        bucket: String,
    },
    ListObjects {
        bucket: String,
        params: ListParams,
    },
    ListObjectsV2 {
        bucket: String,
        params: ListParams,
    },
    PutObject {
        bucket: String,
        key: String,
    },
    GetObject {
        bucket: String,
        key: String,
        overrides: ResponseOverrides,
        part_number: Option<String>,
    },
    HeadObject {
        bucket: String,
        key: String,
        overrides: ResponseOverrides,
        part_number: Option<String>,
    },
    CopyObject {
        bucket: String,
        key: String,
    },
    DeleteObjects {
        bucket: String,
    },
    GetObjectAttributes {
        bucket: String,
        key: String,
    },
    GetObjectTagging {
        bucket: String,
        key: String,
    },
    PutObjectTagging {
        bucket: String,
        key: String,
    },
    DeleteObjectTagging {
        bucket: String,
        key: String,
    },
    GetBucketTagging {
        bucket: String,
    },
    PutBucketTagging {
        bucket: String,
    },
    DeleteBucketTagging {
        bucket: String,
    },
    GetBucketVersioning {
        bucket: String,
    },
    PutBucketVersioning {
        bucket: String,
    },
    ListObjectVersions {
        bucket: String,
        params: ListParams,
    },
    DeleteObject {
        bucket: String,
        key: String,
    },
    CreateMultipartUpload {
        bucket: String,
        key: String,
    },
    /// `part_number` raw as sent; validated by the handler.
    UploadPart {
        target: UploadTarget,
        part_number: String,
    },
    UploadPartCopy {
        target: UploadTarget,
        part_number: String,
    },
    CompleteMultipartUpload {
        target: UploadTarget,
    },
    AbortMultipartUpload {
        target: UploadTarget,
    },
    ListParts {
        target: UploadTarget,
        max_parts: Option<String>,
        part_number_marker: Option<String>,
    },
    ListMultipartUploads {
        bucket: String,
        params: UploadListParams,
    },
    GetBucketAcl {
        bucket: String,
    },
    PutBucketAcl {
        bucket: String,
    },
    GetObjectAcl {
        bucket: String,
        key: String,
    },
    PutObjectAcl {
        bucket: String,
        key: String,
    },
    GetBucketCors {
        bucket: String,
    },
    PutBucketCors {
        bucket: String,
    },
    DeleteBucketCors {
        bucket: String,
    },
    /// A browser form upload (`POST /{bucket}` with multipart/form-data).
    PostObject {
        bucket: String,
    },
}

impl S3Op {
    /// The AWS name of the operation, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ListBuckets { .. } => "ListBuckets",
            Self::CreateBucket { .. } => "CreateBucket",
            Self::HeadBucket { .. } => "HeadBucket",
            Self::DeleteBucket { .. } => "DeleteBucket",
            Self::GetBucketLocation { .. } => "GetBucketLocation",
            Self::ListObjects { .. } => "ListObjects",
            Self::ListObjectsV2 { .. } => "ListObjectsV2",
            Self::PutObject { .. } => "PutObject",
            Self::GetObject { .. } => "GetObject",
            Self::HeadObject { .. } => "HeadObject",
            Self::DeleteObject { .. } => "DeleteObject",
            Self::CopyObject { .. } => "CopyObject",
            Self::DeleteObjects { .. } => "DeleteObjects",
            Self::GetObjectAttributes { .. } => "GetObjectAttributes",
            Self::GetObjectTagging { .. } => "GetObjectTagging",
            Self::PutObjectTagging { .. } => "PutObjectTagging",
            Self::DeleteObjectTagging { .. } => "DeleteObjectTagging",
            Self::GetBucketTagging { .. } => "GetBucketTagging",
            Self::PutBucketTagging { .. } => "PutBucketTagging",
            Self::DeleteBucketTagging { .. } => "DeleteBucketTagging",
            Self::GetBucketVersioning { .. } => "GetBucketVersioning",
            Self::PutBucketVersioning { .. } => "PutBucketVersioning",
            Self::ListObjectVersions { .. } => "ListObjectVersions",
            Self::CreateMultipartUpload { .. } => "CreateMultipartUpload",
            Self::UploadPart { .. } => "UploadPart",
            Self::UploadPartCopy { .. } => "UploadPartCopy",
            Self::CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            Self::AbortMultipartUpload { .. } => "AbortMultipartUpload",
            Self::ListParts { .. } => "ListParts",
            Self::ListMultipartUploads { .. } => "ListMultipartUploads",
            Self::PostObject { .. } => "PostObject",
            Self::GetBucketAcl { .. } => "GetBucketAcl",
            Self::PutBucketAcl { .. } => "PutBucketAcl",
            Self::GetObjectAcl { .. } => "GetObjectAcl",
            Self::PutObjectAcl { .. } => "PutObjectAcl",
            Self::GetBucketCors { .. } => "GetBucketCors",
            Self::PutBucketCors { .. } => "PutBucketCors",
            Self::DeleteBucketCors { .. } => "DeleteBucketCors",
        }
    }
}
