use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn list(s: &str) -> HostList {
    s.parse().unwrap()
}

#[test]
fn inside_addresses_are_refused_however_spelled() {
    for (addr, kind) in [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("0.0.0.0", "this network"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "shared"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ("2002:7f00:1::", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique local"),
        ("fc00::1", "unique local"),
        ("ff02::1", "multicast"),
    ] {
        let k = refused_kind(ip(addr)).unwrap_or_else(|| panic!("{addr} was not refused"));
        assert!(k.contains(kind), "{addr}: {k}");
    }
    for addr in [
        "93.184.216.34",
        "8.8.8.8",
        "172.32.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
    ] {
        assert_eq!(refused_kind(ip(addr)), None, "{addr}");
    }
}

#[test]
fn the_refusal_says_what_to_do() {
    let none = HostList::default();
    assert_eq!(
        check("169.254.169.254", ip("169.254.169.254"), Some(80), &none).unwrap_err(),
        "169.254.169.254 is a link-local address (cloud metadata); add it to the allowed hosts if this is intended"
    );
    assert_eq!(
        check("ledger.example", ip("10.0.0.5"), Some(443), &none).unwrap_err(),
        "ledger.example resolves to 10.0.0.5, a private-network address; add ledger.example to the allowed hosts if this is intended"
    );
    assert!(
        check(
            "[::ffff:127.0.0.1]",
            ip("::ffff:127.0.0.1"),
            Some(80),
            &none
        )
        .is_err()
    );
    assert_eq!(
        check("example.com", ip("93.184.216.34"), Some(443), &none),
        Ok(())
    );
}

#[test]
fn the_allow_list_admits_names_addresses_networks_and_ports() {
    let allow = list("ledger.internal, *.corp.example 10.0.0.0/8\n127.0.0.1:3000 [::1]:8080");
    assert_eq!(
        check("ledger.internal", ip("192.168.1.4"), Some(443), &allow),
        Ok(())
    );
    assert_eq!(
        check("LEDGER.internal.", ip("192.168.1.4"), Some(443), &allow),
        Ok(())
    );
    assert_eq!(
        check("a.b.corp.example", ip("192.168.1.4"), None, &allow),
        Ok(())
    );
    assert!(check("corp.example", ip("192.168.1.4"), None, &allow).is_err());
    assert!(check("evilcorp.example", ip("192.168.1.4"), None, &allow).is_err());
    assert_eq!(check("anything", ip("10.9.9.9"), Some(1), &allow), Ok(()));
    assert_eq!(
        check("127.0.0.1", ip("127.0.0.1"), Some(3000), &allow),
        Ok(())
    );
    assert!(check("127.0.0.1", ip("127.0.0.1"), Some(22), &allow).is_err());
    // a name that resolves to an allowed address on the allowed port
    assert_eq!(
        check("localhost", ip("127.0.0.1"), Some(3000), &allow),
        Ok(())
    );
    assert!(check("localhost", ip("127.0.0.1"), Some(3001), &allow).is_err());
    // the mapped form of an allowed address is that address
    assert_eq!(
        check(
            "[::ffff:127.0.0.1]",
            ip("::ffff:127.0.0.1"),
            Some(3000),
            &allow
        ),
        Ok(())
    );
    assert_eq!(check("[::1]", ip("::1"), Some(8080), &allow), Ok(()));
    assert!(check("[::1]", ip("::1"), Some(80), &allow).is_err());
}

#[test]
fn patterns_parse_and_print_back() {
    for s in [
        "ledger.internal",
        "*.corp.example",
        "10.0.0.0/8",
        "10.1.2.3",
        "127.0.0.1:3000",
        "[::1]:8080",
        "fd00::/8",
        "::1",
        "host:8443",
    ] {
        let p: HostPattern = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(p.to_string(), s);
    }
    for bad in [
        "",
        "http://x",
        "a b",
        "x:0",
        "x:99999",
        "[::1",
        "bad..name",
        "-",
        "*.",
        "[::1]x",
    ] {
        let e = bad.parse::<HostPattern>().unwrap_err();
        assert!(e.contains("not a host pattern"), "{bad}: {e}");
    }
    assert_eq!(
        list("a.example, b.example").to_string(),
        "a.example, b.example"
    );
    assert!(list("").is_empty());
}
