# localhost/cargo-prebuild-test/rust-base: stands in for rust:1-bookworm. The host's rustup
# toolchain (hard-linked into the build context by run.sh) with the official image's layout:
# CARGO_HOME=/usr/local/cargo, whose bin/ comes first in PATH (where `cargo install` puts
# cargo-prebuild).
FROM localhost/cargo-prebuild-test/debian
COPY rust /usr/local/rust
ENV CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /usr/local/cargo/bin && cargo --version && rustc --version && cc --version | head -1
