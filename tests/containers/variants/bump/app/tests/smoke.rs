// Added after the first build: a second test target must not invalidate the dependency layer.
#[test]
fn greets() {
    assert!(greet::greeting().starts_with("hello"));
}
