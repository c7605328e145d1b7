//! The S3 actions a bucket policy may name, each with the kind of resource it applies to (what
//! "Action does not apply to any resource(s) in statement" checks).

/// What an action's resource ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `arn:aws:s3:::bucket`
    Bucket,
    /// `arn:aws:s3:::bucket/key`
    Object,
    /// No resource a bucket policy can name (ListAllMyBuckets).
    Service,
}

/// Every S3 action (without the `s3:` prefix) and its resource kind.
const ACTIONS: &[(&str, Kind)] = &[
    ("AbortMultipartUpload", Kind::Object),
    ("BypassGovernanceRetention", Kind::Object),
    ("DeleteObject", Kind::Object),
    ("DeleteObjectTagging", Kind::Object),
    ("DeleteObjectVersion", Kind::Object),
    ("DeleteObjectVersionTagging", Kind::Object),
    ("GetObject", Kind::Object),
    ("GetObjectAcl", Kind::Object),
    ("GetObjectAttributes", Kind::Object),
    ("GetObjectLegalHold", Kind::Object),
    ("GetObjectRetention", Kind::Object),
    ("GetObjectTagging", Kind::Object),
    ("GetObjectTorrent", Kind::Object),
    ("GetObjectVersion", Kind::Object),
    ("GetObjectVersionAcl", Kind::Object),
    ("GetObjectVersionAttributes", Kind::Object),
    ("GetObjectVersionForReplication", Kind::Object),
    ("GetObjectVersionTagging", Kind::Object),
    ("GetObjectVersionTorrent", Kind::Object),
    ("InitiateReplication", Kind::Object),
    ("ListMultipartUploadParts", Kind::Object),
    ("ObjectOwnerOverrideToBucketOwner", Kind::Object),
    ("PutObject", Kind::Object),
    ("PutObjectAcl", Kind::Object),
    ("PutObjectLegalHold", Kind::Object),
    ("PutObjectRetention", Kind::Object),
    ("PutObjectTagging", Kind::Object),
    ("PutObjectVersionAcl", Kind::Object),
    ("PutObjectVersionTagging", Kind::Object),
    ("ReplicateDelete", Kind::Object),
    ("ReplicateObject", Kind::Object),
    ("ReplicateTags", Kind::Object),
    ("RestoreObject", Kind::Object),
    ("CreateBucket", Kind::Bucket),
    ("DeleteBucket", Kind::Bucket),
    ("DeleteBucketOwnershipControls", Kind::Bucket),
    ("DeleteBucketPolicy", Kind::Bucket),
    ("DeleteBucketWebsite", Kind::Bucket),
    ("GetAccelerateConfiguration", Kind::Bucket),
    ("GetAnalyticsConfiguration", Kind::Bucket),
    ("GetBucketAcl", Kind::Bucket),
    ("GetBucketCORS", Kind::Bucket),
    ("GetBucketLocation", Kind::Bucket),
    ("GetBucketLogging", Kind::Bucket),
    ("GetBucketNotification", Kind::Bucket),
    ("GetBucketObjectLockConfiguration", Kind::Bucket),
    ("GetBucketOwnershipControls", Kind::Bucket),
    ("GetBucketPolicy", Kind::Bucket),
    ("GetBucketPolicyStatus", Kind::Bucket),
    ("GetBucketPublicAccessBlock", Kind::Bucket),
    ("GetBucketRequestPayment", Kind::Bucket),
    ("GetBucketTagging", Kind::Bucket),
    ("GetBucketVersioning", Kind::Bucket),
    ("GetBucketWebsite", Kind::Bucket),
    ("GetEncryptionConfiguration", Kind::Bucket),
    ("GetIntelligentTieringConfiguration", Kind::Bucket),
    ("GetInventoryConfiguration", Kind::Bucket),
    ("GetLifecycleConfiguration", Kind::Bucket),
    ("GetMetricsConfiguration", Kind::Bucket),
    ("GetReplicationConfiguration", Kind::Bucket),
    ("ListBucket", Kind::Bucket),
    ("ListBucketMultipartUploads", Kind::Bucket),
    ("ListBucketVersions", Kind::Bucket),
    ("PutAccelerateConfiguration", Kind::Bucket),
    ("PutAnalyticsConfiguration", Kind::Bucket),
    ("PutBucketAcl", Kind::Bucket),
    ("PutBucketCORS", Kind::Bucket),
    ("PutBucketLogging", Kind::Bucket),
    ("PutBucketNotification", Kind::Bucket),
    ("PutBucketObjectLockConfiguration", Kind::Bucket),
    ("PutBucketOwnershipControls", Kind::Bucket),
    ("PutBucketPolicy", Kind::Bucket),
    ("PutBucketPublicAccessBlock", Kind::Bucket),
    ("PutBucketRequestPayment", Kind::Bucket),
    ("PutBucketTagging", Kind::Bucket),
    ("PutBucketVersioning", Kind::Bucket),
    ("PutBucketWebsite", Kind::Bucket),
    ("PutEncryptionConfiguration", Kind::Bucket),
    ("PutIntelligentTieringConfiguration", Kind::Bucket),
    ("PutInventoryConfiguration", Kind::Bucket),
    ("PutLifecycleConfiguration", Kind::Bucket),
    ("PutMetricsConfiguration", Kind::Bucket),
    ("PutReplicationConfiguration", Kind::Bucket),
    ("ListAllMyBuckets", Kind::Service),
];

/// The kinds of the actions an `Action` pattern (`s3:Get*`, `*`) names; empty if it names none.
pub fn kinds_named(pattern: &str) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for (name, kind) in ACTIONS {
        if super::glob::matches(pattern, &format!("s3:{name}"), true) && !kinds.contains(kind) {
            kinds.push(*kind);
        }
    }
    kinds
}

/// The kind of a known action (`s3:GetObject`).
pub fn kind_of(action: &str) -> Option<Kind> {
    let name = action.strip_prefix("s3:")?;
    ACTIONS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_the_kinds_of_their_actions() {
        assert_eq!(kinds_named("s3:GetObject"), vec![Kind::Object]);
        assert_eq!(kinds_named("S3:listbucket"), vec![Kind::Bucket]);
        assert_eq!(kinds_named("s3:*").len(), 3);
        assert!(kinds_named("s3:GetObjekt").is_empty());
        assert!(kinds_named("ec2:RunInstances").is_empty());
        assert_eq!(kind_of("s3:PutBucketPolicy"), Some(Kind::Bucket));
    }
}
