//! The one S3 error type: a code with its HTTP status, a message for humans, and the extra
//! elements/headers S3 adds for some codes. Rendering to XML happens in `server::response`.

use http::StatusCode;

/// The S3 error codes this server answers with. Each maps to exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3ErrorCode {
    RequestTimeout,
    BucketAlreadyExists,
    MissingSecurityHeader,
    UnexpectedContent,
    UnresolvableGrantByEmailAddress,
    MalformedACLError,
    NoSuchCORSConfiguration,
    CORSResponse,
    BadRequest,
    InvalidPolicyDocument,
    MaxPostPreDataLengthExceeded,
    MalformedPOSTRequest,
    XAmzContentSHA256Mismatch,
    SignatureDoesNotMatch,
    RequestTimeTooSkewed,
    InvalidAccessKeyId,
    AuthorizationQueryParametersError,
    AuthorizationHeaderMalformed,
    AccessDenied,
    BadDigest,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    IncompleteBody,
    InternalError,
    InvalidArgument,
    InvalidBucketName,
    InvalidDigest,
    InvalidPart,
    InvalidPartNumber,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    InvalidStorageClass,
    InvalidTag,
    InvalidURI,
    KeyTooLongError,
    MalformedXML,
    MetadataTooLarge,
    MethodNotAllowed,
    MissingContentLength,
    NoSuchBucket,
    NoSuchKey,
    NoSuchTagSet,
    NoSuchUpload,
    NotImplemented,
    PreconditionFailed,
}

impl S3ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestTimeout => "RequestTimeout",
            Self::BucketAlreadyExists => "BucketAlreadyExists",
            Self::MissingSecurityHeader => "MissingSecurityHeader",
            Self::UnexpectedContent => "UnexpectedContent",
            Self::UnresolvableGrantByEmailAddress => "UnresolvableGrantByEmailAddress",
            Self::MalformedACLError => "MalformedACLError",
            Self::NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            Self::CORSResponse => "CORSResponse",
            Self::BadRequest => "BadRequest",
            Self::InvalidPolicyDocument => "InvalidPolicyDocument",
            Self::MaxPostPreDataLengthExceeded => "MaxPostPreDataLengthExceeded",
            Self::MalformedPOSTRequest => "MalformedPOSTRequest",
            Self::XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            Self::InvalidAccessKeyId => "InvalidAccessKeyId",
            Self::AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            Self::AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            Self::AccessDenied => "AccessDenied",
            Self::BadDigest => "BadDigest",
            Self::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            Self::BucketNotEmpty => "BucketNotEmpty",
            Self::EntityTooLarge => "EntityTooLarge",
            Self::EntityTooSmall => "EntityTooSmall",
            Self::IncompleteBody => "IncompleteBody",
            Self::InternalError => "InternalError",
            Self::InvalidArgument => "InvalidArgument",
            Self::InvalidBucketName => "InvalidBucketName",
            Self::InvalidDigest => "InvalidDigest",
            Self::InvalidPart => "InvalidPart",
            Self::InvalidPartNumber => "InvalidPartNumber",
            Self::InvalidPartOrder => "InvalidPartOrder",
            Self::InvalidRange => "InvalidRange",
            Self::InvalidRequest => "InvalidRequest",
            Self::InvalidStorageClass => "InvalidStorageClass",
            Self::InvalidTag => "InvalidTag",
            Self::InvalidURI => "InvalidURI",
            Self::KeyTooLongError => "KeyTooLongError",
            Self::MalformedXML => "MalformedXML",
            Self::MetadataTooLarge => "MetadataTooLarge",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::MissingContentLength => "MissingContentLength",
            Self::NoSuchBucket => "NoSuchBucket",
            Self::NoSuchKey => "NoSuchKey",
            Self::NoSuchTagSet => "NoSuchTagSet",
            Self::NoSuchUpload => "NoSuchUpload",
            Self::NotImplemented => "NotImplemented",
            Self::PreconditionFailed => "PreconditionFailed",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::BucketAlreadyOwnedByYou | Self::BucketNotEmpty => StatusCode::CONFLICT,
            Self::AccessDenied => StatusCode::FORBIDDEN,
            Self::AuthorizationHeaderMalformed => StatusCode::BAD_REQUEST,
            Self::AuthorizationQueryParametersError => StatusCode::BAD_REQUEST,
            Self::InvalidAccessKeyId => StatusCode::FORBIDDEN,
            Self::RequestTimeTooSkewed => StatusCode::FORBIDDEN,
            Self::SignatureDoesNotMatch => StatusCode::FORBIDDEN,
            Self::XAmzContentSHA256Mismatch => StatusCode::BAD_REQUEST,
            Self::MalformedPOSTRequest => StatusCode::BAD_REQUEST,
            Self::MaxPostPreDataLengthExceeded => StatusCode::BAD_REQUEST,
            Self::InvalidPolicyDocument => StatusCode::BAD_REQUEST,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::CORSResponse => StatusCode::FORBIDDEN,
            Self::NoSuchCORSConfiguration => StatusCode::NOT_FOUND,
            Self::MalformedACLError => StatusCode::BAD_REQUEST,
            Self::UnresolvableGrantByEmailAddress => StatusCode::BAD_REQUEST,
            Self::UnexpectedContent => StatusCode::BAD_REQUEST,
            Self::MissingSecurityHeader => StatusCode::BAD_REQUEST,
            Self::BucketAlreadyExists => StatusCode::CONFLICT,
            Self::RequestTimeout => StatusCode::BAD_REQUEST,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InvalidRange | Self::InvalidPartNumber => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MissingContentLength => StatusCode::LENGTH_REQUIRED,
            Self::NoSuchBucket | Self::NoSuchKey | Self::NoSuchTagSet | Self::NoSuchUpload => {
                StatusCode::NOT_FOUND
            }
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::BadDigest
            | Self::EntityTooLarge
            | Self::EntityTooSmall
            | Self::IncompleteBody
            | Self::InvalidArgument
            | Self::InvalidBucketName
            | Self::InvalidDigest
            | Self::InvalidPart
            | Self::InvalidPartOrder
            | Self::InvalidRequest
            | Self::InvalidStorageClass
            | Self::InvalidTag
            | Self::InvalidURI
            | Self::KeyTooLongError
            | Self::MalformedXML
            | Self::MetadataTooLarge => StatusCode::BAD_REQUEST,
        }
    }

    /// The message S3 uses when nothing more specific is known.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::BadDigest => "The Content-MD5 or checksum you specified did not match what we received.",
            Self::BucketAlreadyOwnedByYou => "Your previous request to create the named bucket succeeded and you already own it.",
            Self::BucketNotEmpty => "The bucket you tried to delete is not empty",
            Self::EntityTooLarge => "Your proposed upload exceeds the maximum allowed size",
            Self::EntityTooSmall => "Your proposed upload is smaller than the minimum allowed object size.",
            Self::IncompleteBody => "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            Self::AccessDenied => "Access Denied",
            Self::AuthorizationHeaderMalformed => "The authorization header is malformed.",
            Self::AuthorizationQueryParametersError => "Error parsing the X-Amz-Credential parameter.",
            Self::InvalidAccessKeyId => "The AWS Access Key Id you provided does not exist in our records.",
            Self::RequestTimeTooSkewed => "The difference between the request time and the current time is too large.",
            Self::SignatureDoesNotMatch => "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            Self::XAmzContentSHA256Mismatch => "The provided 'x-amz-content-sha256' header does not match what was computed.",
            Self::MalformedPOSTRequest => "The body of your POST request is not well-formed multipart/form-data.",
            Self::MaxPostPreDataLengthExceeded => "Your POST request fields preceding the upload file were too large.",
            Self::InvalidPolicyDocument => "The content of the form does not meet the conditions specified in the policy document.",
            Self::BadRequest => "Bad Request",
            Self::CORSResponse => "CORS is not enabled for this bucket.",
            Self::NoSuchCORSConfiguration => "The CORS configuration does not exist",
            Self::MalformedACLError => "The XML you provided was not well-formed or did not validate against our published schema.",
            Self::UnresolvableGrantByEmailAddress => "The email address you provided does not match any account on record.",
            Self::UnexpectedContent => "This request does not support content.",
            Self::MissingSecurityHeader => "Your request was missing a required header.",
            Self::BucketAlreadyExists => "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            Self::RequestTimeout => "Your socket connection to the server was not read from or written to within the timeout period.",
            Self::InternalError => "We encountered an internal error. Please try again.",
            Self::InvalidArgument => "Invalid Argument",
            Self::InvalidBucketName => "The specified bucket is not valid.",
            Self::InvalidDigest => "The Content-MD5 you specified is not valid.",
            Self::InvalidPart => "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            Self::InvalidPartNumber => "The requested partnumber is not satisfiable",
            Self::InvalidPartOrder => "The list of parts was not in ascending order. Parts must be ordered by part number.",
            Self::InvalidRange => "The requested range is not satisfiable",
            Self::InvalidRequest => "Invalid Request",
            Self::InvalidStorageClass => "The storage class you specified is not valid",
            Self::InvalidTag => "The tag provided was not a valid tag.",
            Self::InvalidURI => "Couldn't parse the specified URI.",
            Self::KeyTooLongError => "Your key is too long",
            Self::MalformedXML => "The XML you provided was not well-formed or did not validate against our published schema",
            Self::MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size",
            Self::MethodNotAllowed => "The specified method is not allowed against this resource.",
            Self::MissingContentLength => "You must provide the Content-Length HTTP header.",
            Self::NoSuchBucket => "The specified bucket does not exist",
            Self::NoSuchKey => "The specified key does not exist.",
            Self::NoSuchTagSet => "The TagSet does not exist",
            Self::NoSuchUpload => "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            Self::NotImplemented => "A header you provided implies functionality that is not implemented",
            Self::PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
        }
    }
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
}

impl S3Error {
    pub fn new(code: S3ErrorCode) -> Self {
        Self {
            code,
            message: code.default_message().to_string(),
            details: Vec::new(),
            headers: Vec::new(),
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
        self.code.status()
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
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
