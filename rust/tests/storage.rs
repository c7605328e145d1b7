//! Storage semantics, driven through `FileStore` directly: atomic overwrites under readers,
//! conditional writes, pruning of emptied directories, listings across nested keys.

use bytes::Bytes;
use futures_util::stream;
use md5::Digest;
use rusts3::acl::Owner;
use rusts3::checksum::BodyDigests;
use rusts3::storage::{
    FileStore, ListEntry, ListQuery, ObjectMetadata, StorageError, WriteCondition,
};

fn owner() -> Owner {
    Owner {
        id: "owner-id".into(),
        display_name: "owner".into(),
    }
}

async fn store_with_bucket(dir: &tempfile::TempDir) -> FileStore {
    let store = FileStore::open(dir.path(), false)
        .await
        .expect("store opens");
    store
        .create_bucket("b", owner(), None, None)
        .await
        .expect("bucket is created");
    store
}

async fn put(
    store: &FileStore,
    key: &str,
    body: &[u8],
    condition: &WriteCondition,
) -> Result<String, StorageError> {
    let chunks: Vec<Result<Bytes, StorageError>> = body
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let metadata = ObjectMetadata {
        key: key.into(),
        ..Default::default()
    };
    store
        .put_object(
            "b",
            key,
            metadata,
            BodyDigests::new(None),
            condition,
            stream::iter(chunks),
            |_| Ok(None),
        )
        .await
        .map(|outcome| outcome.etag)
}

async fn read(store: &FileStore, key: &str) -> Result<Vec<u8>, StorageError> {
    let mut object = store.open_object("b", key).await?;
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut object.file, &mut body)?;
    Ok(body)
}

fn keys(entries: &[ListEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            ListEntry::Object { key, .. } => key.clone(),
            ListEntry::CommonPrefix(p) => format!("prefix:{p}"),
        })
        .collect()
}

#[tokio::test]
async fn an_open_reader_keeps_the_version_it_opened_while_overwrites_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(&dir).await;
    let old = vec![b'o'; 100_000];
    let old_etag = put(&store, "k", &old, &WriteCondition::Always)
        .await
        .unwrap();
    let mut reader = store.open_object("b", "k").await.unwrap();
    assert_eq!(reader.info.etag, old_etag);

    let new = vec![b'n'; 50_000];
    let new_etag = put(&store, "k", &new, &WriteCondition::Always)
        .await
        .unwrap();
    assert_ne!(new_etag, old_etag);

    let mut seen = Vec::new();
    std::io::Read::read_to_end(&mut reader.file, &mut seen).unwrap();
    assert_eq!(seen, old, "the reader sees the whole old body");
    assert_eq!(read(&store, "k").await.unwrap(), new);
    assert_eq!(
        store.open_object("b", "k").await.unwrap().info.etag,
        new_etag
    );
}

#[tokio::test]
async fn concurrent_readers_see_whole_versions_with_their_own_etag() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(store_with_bucket(&dir).await);
    let versions: Vec<Vec<u8>> = (0..8u8)
        .map(|i| vec![b'a' + i; 20_000 + i as usize])
        .collect();
    put(&store, "k", &versions[0], &WriteCondition::Always)
        .await
        .unwrap();
    let writer = {
        let (store, versions) = (store.clone(), versions.clone());
        tokio::spawn(async move {
            for round in 0..40 {
                let body = &versions[round % versions.len()];
                put(&store, "k", body, &WriteCondition::Always)
                    .await
                    .unwrap();
            }
        })
    };
    let mut checked = 0;
    while !writer.is_finished() && checked < 2_000 {
        let mut object = store.open_object("b", "k").await.unwrap();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut object.file, &mut body).unwrap();
        let digest = hex::encode(md5::Md5::digest(&body));
        assert_eq!(object.info.etag, digest, "ETag and body are of one version");
        assert_eq!(object.info.size, body.len() as u64);
        assert!(versions.contains(&body));
        checked += 1;
    }
    writer.await.unwrap();
    assert!(checked > 0);
}

#[tokio::test]
async fn conditional_writes_hold_or_fail_without_touching_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(&dir).await;
    assert!(matches!(
        put(&store, "k", b"x", &WriteCondition::IfMatch("0".repeat(32))).await,
        Err(StorageError::NoSuchKey)
    ));
    assert!(matches!(
        read(&store, "k").await,
        Err(StorageError::NoSuchKey)
    ));

    let etag = put(&store, "k", b"first", &WriteCondition::IfAbsent)
        .await
        .unwrap();
    assert!(matches!(
        put(&store, "k", b"second", &WriteCondition::IfAbsent).await,
        Err(StorageError::PreconditionFailed)
    ));
    assert!(matches!(
        put(
            &store,
            "k",
            b"third",
            &WriteCondition::IfMatch("f".repeat(32))
        )
        .await,
        Err(StorageError::PreconditionFailed)
    ));
    assert_eq!(read(&store, "k").await.unwrap(), b"first");

    put(&store, "k", b"fourth", &WriteCondition::IfMatch(etag))
        .await
        .unwrap();
    assert_eq!(read(&store, "k").await.unwrap(), b"fourth");
    // The replaced data goes to the temp directory on its way out.
    store.finish_removals().await;
    let leftovers = std::fs::read_dir(store.tmp_dir()).unwrap().count();
    assert_eq!(leftovers, 0, "failed writes leave no temp files");
}

#[tokio::test]
async fn deleting_the_last_key_of_a_directory_prunes_it_and_the_bucket_can_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(&dir).await;
    put(&store, "a/b/c/deep.txt", b"1", &WriteCondition::Always)
        .await
        .unwrap();
    put(&store, "a/keep.txt", b"2", &WriteCondition::Always)
        .await
        .unwrap();
    let bucket_dir = store.root().join("b");
    assert!(bucket_dir.join("a/b/c").is_dir());

    assert!(matches!(
        store.delete_bucket("b", false).await,
        Err(StorageError::BucketNotEmpty)
    ));
    store
        .delete_object("b", "a/b/c/deep.txt", None, &Default::default())
        .await
        .unwrap();
    assert!(
        !bucket_dir.join("a/b").exists(),
        "emptied directories are removed"
    );
    assert!(
        bucket_dir.join("a").is_dir(),
        "a directory still holding a key stays"
    );
    store
        .delete_object("b", "a/keep.txt", None, &Default::default())
        .await
        .unwrap();
    assert!(!bucket_dir.join("a").exists());
    // Deleting a missing key succeeds, as in S3.
    store
        .delete_object("b", "a/keep.txt", None, &Default::default())
        .await
        .unwrap();
    store.delete_bucket("b", false).await.unwrap();
    assert!(!store.bucket_exists("b").await.unwrap());
}

#[tokio::test]
async fn listings_walk_nested_keys_in_order_with_prefixes_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_bucket(&dir).await;
    let all = [
        "a",
        "a/b",
        "a/b/c",
        "a/bb",
        "a-",
        "a0",
        "b/x/y",
        "b/z",
        "c",
        "dir//double",
    ];
    for key in all {
        put(&store, key, key.as_bytes(), &WriteCondition::Always)
            .await
            .unwrap();
    }
    let query =
        |prefix: &str, delimiter: Option<&str>, marker: Option<&str>, max: usize| ListQuery {
            prefix: prefix.into(),
            delimiter: delimiter.map(str::to_string),
            marker: marker.map(str::to_string),
            max_keys: max,
            with_owner: false,
        };
    let page = store
        .list_objects("b", query("", None, None, 1000))
        .await
        .unwrap();
    let mut sorted = all.map(str::to_string).to_vec();
    sorted.sort();
    assert_eq!(
        keys(&page.entries),
        sorted,
        "UTF-8 byte order across directories"
    );
    assert!(!page.is_truncated);

    let page = store
        .list_objects("b", query("", Some("/"), None, 1000))
        .await
        .unwrap();
    assert_eq!(
        keys(&page.entries),
        [
            "a",
            "a-",
            "prefix:a/",
            "a0",
            "prefix:b/",
            "c",
            "prefix:dir/"
        ]
    );

    let page = store
        .list_objects("b", query("a/", Some("/"), None, 1000))
        .await
        .unwrap();
    assert_eq!(keys(&page.entries), ["a/b", "prefix:a/b/", "a/bb"]);

    // Paging: three at a time, each page resuming after the last entry of the one before.
    let mut marker: Option<String> = None;
    let mut paged = Vec::new();
    for _ in 0..10 {
        let page = store
            .list_objects("b", query("", None, marker.as_deref(), 3))
            .await
            .unwrap();
        assert!(page.entries.len() <= 3);
        paged.extend(keys(&page.entries));
        marker = page.entries.last().map(|e| e.marker().to_string());
        if !page.is_truncated {
            break;
        }
    }
    assert_eq!(paged, sorted);
}

#[tokio::test]
async fn a_bucket_is_deleted_whole_or_not_at_all_while_puts_race_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(FileStore::open(dir.path(), false).await.unwrap());
    let tags = vec![rusts3::storage::Tag {
        key: "team".into(),
        value: "storage".into(),
    }];
    let (mut deleted, mut kept) = (0, 0);
    for trial in 0..60 {
        store.create_bucket("b", owner(), None, None).await.unwrap();
        store
            .set_bucket_tags("b", Some(tags.clone()))
            .await
            .unwrap();
        let writers: Vec<_> = (0..4)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let key = format!("k{i}");
                    let result = put(&store, &key, b"data", &WriteCondition::Always).await;
                    (key, result)
                })
            })
            .collect();
        if trial % 2 == 0 {
            tokio::task::yield_now().await;
        }
        let deletion = store.delete_bucket("b", false).await;
        let mut stored = Vec::new();
        for writer in writers {
            let (key, result) = writer.await.unwrap();
            match result {
                Ok(_) => stored.push(key),
                Err(StorageError::NoSuchBucket) => {}
                Err(e) => panic!("trial {trial}: a PUT failed with {e}"),
            }
        }
        match deletion {
            Ok(()) => {
                deleted += 1;
                assert!(!store.bucket_exists("b").await.unwrap());
                // A PUT that committed before the check kept the bucket; none can commit after.
                assert!(
                    stored.is_empty(),
                    "trial {trial}: {stored:?} acknowledged, then lost"
                );
            }
            Err(StorageError::BucketNotEmpty) => {
                kept += 1;
                assert_eq!(store.bucket_tags("b").await.unwrap(), Some(tags.clone()));
                for key in &stored {
                    assert_eq!(read(&store, key).await.unwrap(), b"data");
                }
                for key in stored {
                    store
                        .delete_object("b", &key, None, &Default::default())
                        .await
                        .unwrap();
                }
                // Writers that lost to the deletion attempt may have committed meanwhile.
                for i in 0..4 {
                    store
                        .delete_object("b", &format!("k{i}"), None, &Default::default())
                        .await
                        .unwrap();
                }
                store.delete_bucket("b", false).await.unwrap();
            }
            Err(e) => panic!("trial {trial}: DeleteBucket failed with {e}"),
        }
        assert!(!store.bucket_exists("b").await.unwrap());
    }
    assert_eq!(deleted + kept, 60);
    assert!(
        deleted > 0 && kept > 0,
        "both outcomes were exercised: {deleted} deleted, {kept} kept"
    );
    assert_eq!(std::fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
}
