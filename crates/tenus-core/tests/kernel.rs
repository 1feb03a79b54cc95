//! Round trips against the real kernel, each in its own anonymous namespace. Skipped (with a
//! message) when not root; under CI=true that skip is a failure.

use tenus_core::link::{bridge::BridgeSpec, veth::VethSpec};
use tenus_core::{Error, Handle, KindSpec, LinkChange, LinkRef, LinkSpec, Namespace};

fn privileged() -> bool {
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("kernel tests need root (CAP_NET_ADMIN) and CI=true forbids skipping them");
    }
    eprintln!("skipped: kernel tests need root (CAP_NET_ADMIN)");
    false
}

async fn lab() -> Handle {
    Handle::open(Namespace::create_anonymous().await.unwrap())
        .await
        .unwrap()
}

fn named(kind: KindSpec, name: &str) -> LinkSpec {
    let mut s = LinkSpec::new(kind);
    s.common.name = Some(name.into());
    s
}

#[tokio::test]
async fn bridge_create_get_list_change_delete() {
    if !privileged() {
        return;
    }
    let h = lab().await;
    let mut spec = named(KindSpec::Bridge(BridgeSpec::default()), "br0");
    spec.common.mtu = Some(1400);
    spec.common.group = Some(7);
    let rec = h.link_add(&spec).await.unwrap();
    assert_eq!(rec.name, "br0");
    assert_eq!(rec.kind.as_deref(), Some("bridge"));
    assert_eq!(rec.mtu, Some(1400));
    assert_eq!(rec.group, 7);
    let listed = h.link_list().await.unwrap();
    assert_eq!(
        listed.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        vec!["lo", "br0"]
    );
    let change = LinkChange {
        up: Some(true),
        alias: Some("lab bridge".into()),
        ..Default::default()
    };
    h.link_set(&LinkRef::Name("br0".into()), &change).await.unwrap();
    let rec = h.link_get(&LinkRef::Index(rec.index)).await.unwrap();
    assert!(rec.up);
    assert_eq!(rec.alias.as_deref(), Some("lab bridge"));
    h.link_del(&LinkRef::Name("br0".into())).await.unwrap();
    let err = h.link_get(&LinkRef::Name("br0".into())).await.unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENODEV), "{err}");
}

#[tokio::test]
async fn kernel_errors_carry_errno_and_extended_ack() {
    if !privileged() {
        return;
    }
    let h = lab().await;
    h.link_add(&named(KindSpec::Bridge(BridgeSpec::default()), "br0"))
        .await
        .unwrap();
    let err = h
        .link_add(&named(KindSpec::Bridge(BridgeSpec::default()), "br0"))
        .await
        .unwrap_err();
    match &err {
        Error::Kernel { errno, op, link, .. } => {
            assert_eq!(*errno, libc::EEXIST);
            assert_eq!(op, "link.add");
            assert_eq!(link.as_deref(), Some("br0"));
        }
        other => panic!("expected a kernel error, got {other:?}"),
    }
    // An MTU the bridge refuses comes back with the kernel's own explanation.
    let err = h
        .link_set(
            &LinkRef::Name("br0".into()),
            &LinkChange {
                mtu: Some(65536),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Kernel { extack: Some(t), .. } if !t.is_empty()),
        "{err:?}"
    );
}

#[tokio::test]
async fn veth_peer_born_in_another_namespace_and_addresses() {
    if !privileged() {
        return;
    }
    let (a, b) = (lab().await, lab().await);
    let veth = VethSpec {
        peer: Some("eth1".into()),
        peer_ns: Some(b.namespace().clone()),
        ..Default::default()
    };
    let rec = a.link_add(&named(KindSpec::Veth(veth), "veth-h")).await.unwrap();
    assert_eq!(rec.kind.as_deref(), Some("veth"));
    let peer = b.link_get(&LinkRef::Name("eth1".into())).await.unwrap();
    assert_eq!(peer.kind.as_deref(), Some("veth"));
    b.addr_add(&LinkRef::Name("eth1".into()), "10.9.0.2/24", false)
        .await
        .unwrap();
    b.addr_add(&LinkRef::Name("eth1".into()), "fd00::2/64", false)
        .await
        .unwrap();
    let addrs = b.addr_list(Some(&LinkRef::Name("eth1".into()))).await.unwrap();
    let cidrs: Vec<&str> = addrs.iter().map(|a| a.cidr.as_str()).collect();
    assert!(
        cidrs.contains(&"10.9.0.2/24") && cidrs.contains(&"fd00::2/64"),
        "{cidrs:?}"
    );
    b.addr_del(&LinkRef::Name("eth1".into()), "10.9.0.2/24")
        .await
        .unwrap();
    assert!(b
        .addr_list(None)
        .await
        .unwrap()
        .iter()
        .all(|a| a.cidr != "10.9.0.2/24"));
    // Move the host end over too, renaming it on the way.
    a.link_move(&LinkRef::Name("veth-h".into()), b.namespace(), Some("eth2"))
        .await
        .unwrap();
    assert!(b.link_get(&LinkRef::Name("eth2".into())).await.is_ok());
    assert_eq!(a.link_list().await.unwrap().len(), 1);
}
