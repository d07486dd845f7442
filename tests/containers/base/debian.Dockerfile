# localhost/cargo-prebuild-test/debian: Debian bookworm (minbase + gcc + libc6-dev) from the
# apt mirror via mmdebstrap, with the host CA bundle (see run.sh). Stands in for both
# debian:bookworm-slim and the OS layer of rust:1-bookworm; no registry is reachable here.
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/bash"]
