//! The one S3 error type: a code with its HTTP status, a message for humans, and the extra
//! elements/headers S3 adds for some codes. Rendering to XML happens in `server::response`.

use http::StatusCode;

/// Declares every S3 error code once: its HTTP status and the message S3 uses when nothing
/// more specific is known.
macro_rules! error_codes {
    ($($code:ident: $status:ident, $message:literal;)*) => {
        /// The S3 error codes this server answers with. Each maps to exactly one HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum S3ErrorCode {
            $($code,)*
        }

        impl S3ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$code => stringify!($code),)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(Self::$code => StatusCode::$status,)*
                }
            }

            pub fn default_message(self) -> &'static str {
                match self {
                    $(Self::$code => $message,)*
                }
            }

            /// The code of this name, if the server declares it.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($code) => Some(Self::$code),)*
                    _ => None,
                }
            }
        }
    };
}

#[rustfmt::skip]
error_codes! {
    RequestHeaderSectionTooLarge: BAD_REQUEST, "Your request header section exceeds the maximum allowed size.";
    RequestTimeout: BAD_REQUEST, "Your socket connection to the server was not read from or written to within the timeout period.";
    BucketAlreadyExists: CONFLICT, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.";
    MissingSecurityHeader: BAD_REQUEST, "Your request was missing a required header.";
    UnexpectedContent: BAD_REQUEST, "This request does not support content.";
    UnresolvableGrantByEmailAddress: BAD_REQUEST, "The email address you provided does not match any account on record.";
    MalformedACLError: BAD_REQUEST, "The XML you provided was not well-formed or did not validate against our published schema.";
    MalformedPolicy: BAD_REQUEST, "Policies must be valid JSON and the first byte must be '{'";
    NoSuchBucketPolicy: NOT_FOUND, "The bucket policy does not exist";
    OwnershipControlsNotFoundError: NOT_FOUND, "The bucket ownership controls were not found";
    AccessControlListNotSupported: BAD_REQUEST, "The bucket does not allow ACLs";
    InvalidBucketAclWithObjectOwnership: BAD_REQUEST, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting";
    NoSuchPublicAccessBlockConfiguration: NOT_FOUND, "The public access block configuration was not found";
    NoSuchCORSConfiguration: NOT_FOUND, "The CORS configuration does not exist";
    CORSResponse: FORBIDDEN, "CORS is not enabled for this bucket.";
    BadRequest: BAD_REQUEST, "Bad Request";
    InvalidPolicyDocument: BAD_REQUEST, "The content of the form does not meet the conditions specified in the policy document.";
    MaxPostPreDataLengthExceeded: BAD_REQUEST, "Your POST request fields preceding the upload file were too large.";
    MalformedPOSTRequest: BAD_REQUEST, "The body of your POST request is not well-formed multipart/form-data.";
    XAmzContentSHA256Mismatch: BAD_REQUEST, "The provided 'x-amz-content-sha256' header does not match what was computed.";
    SignatureDoesNotMatch: FORBIDDEN, "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
    RequestTimeTooSkewed: FORBIDDEN, "The difference between the request time and the current time is too large.";
    InvalidAccessKeyId: FORBIDDEN, "The AWS Access Key Id you provided does not exist in our records.";
    AuthorizationQueryParametersError: BAD_REQUEST, "Error parsing the X-Amz-Credential parameter.";
    AuthorizationHeaderMalformed: BAD_REQUEST, "The authorization header is malformed.";
    AccessDenied: FORBIDDEN, "Access Denied";
    InvalidObjectState: FORBIDDEN, "The operation is not valid for the object's storage class";
    BadDigest: BAD_REQUEST, "The Content-MD5 or checksum you specified did not match what we received.";
    BucketAlreadyOwnedByYou: CONFLICT, "Your previous request to create the named bucket succeeded and you already own it.";
    BucketNotEmpty: CONFLICT, "The bucket you tried to delete is not empty";
    EntityTooLarge: BAD_REQUEST, "Your proposed upload exceeds the maximum allowed size";
    EntityTooSmall: BAD_REQUEST, "Your proposed upload is smaller than the minimum allowed object size.";
    IllegalVersioningConfigurationException: BAD_REQUEST, "The versioning configuration specified in the request is invalid.";
    IncompleteBody: BAD_REQUEST, "You did not provide the number of bytes specified by the Content-Length HTTP header.";
    InternalError: INTERNAL_SERVER_ERROR, "We encountered an internal error. Please try again.";
    InvalidArgument: BAD_REQUEST, "Invalid Argument";
    InvalidBucketName: BAD_REQUEST, "The specified bucket is not valid.";
    InvalidBucketState: CONFLICT, "The request is not valid with the current state of the bucket.";
    InvalidDigest: BAD_REQUEST, "The Content-MD5 you specified is not valid.";
    InvalidLocationConstraint: BAD_REQUEST, "The specified location-constraint is not valid";
    InvalidPart: BAD_REQUEST, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.";
    InvalidPartNumber: RANGE_NOT_SATISFIABLE, "The requested partnumber is not satisfiable";
    InvalidPartOrder: BAD_REQUEST, "The list of parts was not in ascending order. Parts must be ordered by part number.";
    InvalidRange: RANGE_NOT_SATISFIABLE, "The requested range is not satisfiable";
    InvalidRequest: BAD_REQUEST, "Invalid Request";
    InvalidStorageClass: BAD_REQUEST, "The storage class you specified is not valid";
    InvalidTag: BAD_REQUEST, "The tag provided was not a valid tag.";
    InvalidURI: BAD_REQUEST, "Couldn't parse the specified URI.";
    KeyTooLongError: BAD_REQUEST, "Your key is too long";
    MalformedXML: BAD_REQUEST, "The XML you provided was not well-formed or did not validate against our published schema";
    MalformedTrailerError: BAD_REQUEST, "The request contained trailing data that was not well-formed or did not conform to our published schema.";
    MetadataTooLarge: BAD_REQUEST, "Your metadata headers exceed the maximum allowed metadata size";
    MethodNotAllowed: METHOD_NOT_ALLOWED, "The specified method is not allowed against this resource.";
    MissingContentLength: LENGTH_REQUIRED, "You must provide the Content-Length HTTP header.";
    NoSuchBucket: NOT_FOUND, "The specified bucket does not exist";
    NoSuchKey: NOT_FOUND, "The specified key does not exist.";
    NoSuchLifecycleConfiguration: NOT_FOUND, "The lifecycle configuration does not exist";
    NoSuchObjectLockConfiguration: NOT_FOUND, "The specified object does not have a ObjectLock configuration";
    NoSuchTagSet: NOT_FOUND, "The TagSet does not exist";
    NoSuchVersion: NOT_FOUND, "The specified version does not exist.";
    NoSuchUpload: NOT_FOUND, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
    ObjectLockConfigurationNotFoundError: NOT_FOUND, "Object Lock configuration does not exist for this bucket";
    NotImplemented: NOT_IMPLEMENTED, "A header you provided implies functionality that is not implemented";
    PreconditionFailed: PRECONDITION_FAILED, "At least one of the pre-conditions you specified did not hold";
    // Answered only when a fault rule asks for them (server/faults.rs).
    SlowDown: SERVICE_UNAVAILABLE, "Please reduce your request rate.";
    ServiceUnavailable: SERVICE_UNAVAILABLE, "Service is unable to handle request.";
}

/// An S3 error as it will be sent: code, message, extra XML elements and extra headers.
#[derive(Debug, Clone)]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: String,
    /// Extra elements inside `<Error>`, in order (e.g. `BucketName`, `Key`, `ActualObjectSize`).
    pub details: Vec<(&'static str, String)>,
    /// Extra response headers (e.g. `Content-Range` on 416).
    pub headers: Vec<(&'static str, String)>,
    /// A code the server does not declare, with its status: only fault rules make these.
    pub undeclared: Option<Box<(String, StatusCode)>>,
}

impl S3Error {
    pub fn new(code: S3ErrorCode) -> Self {
        Self {
            code,
            message: code.default_message().to_string(),
            details: Vec::new(),
            headers: Vec::new(),
            undeclared: None,
        }
    }

    /// An error of any code with any status (a fault rule's), declared or not; an undeclared
    /// code without a status is a 500.
    pub fn of_code(code: &str, status: Option<StatusCode>) -> Self {
        match S3ErrorCode::from_name(code) {
            Some(declared) if status.is_none_or(|s| s == declared.status()) => Self::new(declared),
            declared => {
                let mut error = Self::new(declared.unwrap_or(S3ErrorCode::InternalError));
                if declared.is_none() {
                    error.message = format!("{code} (injected by a fault rule)");
                }
                let status = status.unwrap_or(error.code.status());
                error.undeclared = Some(Box::new((code.to_string(), status)));
                error
            }
        }
    }

    /// The code as sent in `<Code>`.
    pub fn code_name(&self) -> &str {
        match &self.undeclared {
            Some(undeclared) => &undeclared.0,
            None => self.code.as_str(),
        }
    }

    pub fn with_message(code: S3ErrorCode, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::new(code)
        }
    }

    pub fn detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchBucket).detail("BucketName", bucket)
    }

    pub fn internal(context: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {context}");
        Self::new(S3ErrorCode::InternalError)
    }

    pub fn not_implemented(what: &str) -> Self {
        Self::with_message(
            S3ErrorCode::NotImplemented,
            format!("{what} is not implemented by this server"),
        )
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::with_message(S3ErrorCode::InvalidArgument, message)
    }

    pub fn status(&self) -> StatusCode {
        match &self.undeclared {
            Some(undeclared) => undeclared.1,
            None => self.code.status(),
        }
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code_name(), self.message)
    }
}

impl std::error::Error for S3Error {}

pub type S3Result<T> = Result<T, S3Error>;

impl From<crate::storage::StorageError> for S3Error {
    /// The one mapping from storage failures to S3 errors.
    fn from(e: crate::storage::StorageError) -> Self {
        use crate::storage::StorageError;
        match e {
            StorageError::NoSuchBucket => S3Error::new(S3ErrorCode::NoSuchBucket),
            StorageError::NoSuchKey => S3Error::new(S3ErrorCode::NoSuchKey),
            StorageError::NoSuchVersion => S3Error::new(S3ErrorCode::NoSuchVersion),
            StorageError::ObjectLocked => S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Access Denied because object protected by object lock.",
            ),
            StorageError::NotArchived => S3Error::with_message(
                S3ErrorCode::InvalidObjectState,
                "Restore is not allowed for the object's current storage class",
            ),
            StorageError::NoObjectLock => S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Bucket is missing Object Lock Configuration",
            ),
            // The latest version is a marker: the key is not there. A marker asked for by its
            // id: it exists, but cannot be read.
            StorageError::DeleteMarker {
                version_id,
                requested,
            } => S3Error::new(if requested {
                S3ErrorCode::MethodNotAllowed
            } else {
                S3ErrorCode::NoSuchKey
            })
            .header("x-amz-delete-marker", "true")
            .header("x-amz-version-id", version_id),
            StorageError::BucketAlreadyExists => S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou),
            StorageError::BucketNotEmpty => S3Error::new(S3ErrorCode::BucketNotEmpty),
            StorageError::NoSuchUpload => S3Error::new(S3ErrorCode::NoSuchUpload),
            StorageError::PreconditionFailed => S3Error::new(S3ErrorCode::PreconditionFailed),
            StorageError::InvalidPart(n) => {
                S3Error::new(S3ErrorCode::InvalidPart).detail("PartNumber", n.to_string())
            }
            StorageError::InvalidPartOrder => S3Error::new(S3ErrorCode::InvalidPartOrder),
            StorageError::PartTooSmall { part, size, min } => {
                S3Error::new(S3ErrorCode::EntityTooSmall)
                    .detail("ProposedSize", size.to_string())
                    .detail("MinSizeAllowed", min.to_string())
                    .detail("PartNumber", part.to_string())
            }
            // A full or read-only disk is the user's to fix: say so instead of a bare 500.
            StorageError::Io(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::StorageFull
                        | std::io::ErrorKind::ReadOnlyFilesystem
                        | std::io::ErrorKind::QuotaExceeded
                ) =>
            {
                tracing::error!("storage: {e}");
                S3Error::with_message(
                    S3ErrorCode::InternalError,
                    format!("The server could not write to its storage directory: {e}."),
                )
            }
            StorageError::Io(e) => S3Error::internal(format!("storage: {e}")),
        }
    }
}

impl From<crate::codec::aws_chunked::ChunkedError> for S3Error {
    fn from(e: crate::codec::aws_chunked::ChunkedError) -> Self {
        use crate::codec::aws_chunked::ChunkedError;
        let code = match e {
            ChunkedError::SignatureMismatch(_) => S3ErrorCode::SignatureDoesNotMatch,
            ChunkedError::Malformed(_) => S3ErrorCode::InvalidRequest,
            ChunkedError::Incomplete => S3ErrorCode::IncompleteBody,
            ChunkedError::TrailerTooLarge => S3ErrorCode::MalformedTrailerError,
        };
        S3Error::with_message(code, e.to_string())
    }
}

impl S3Error {
    /// Adds the `BucketName` / `Key` detail S3 puts into not-found errors.
    pub fn for_resource(self, bucket: &str, key: Option<&str>) -> Self {
        match (self.code, key) {
            (
                S3ErrorCode::NoSuchBucket
                | S3ErrorCode::BucketNotEmpty
                | S3ErrorCode::BucketAlreadyOwnedByYou,
                _,
            ) if !self.details.iter().any(|(n, _)| *n == "BucketName") => {
                self.detail("BucketName", bucket)
            }
            (S3ErrorCode::NoSuchKey, Some(key))
                if !self.details.iter().any(|(n, _)| *n == "Key") =>
            {
                self.detail("Key", key)
            }
            _ => self,
        }
    }
}
