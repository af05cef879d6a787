# `make package`: the Debian package (CPack's DEB generator), build/covid-etl_VERSION_ARCH.deb:
#   /usr/bin/covid-etl
#   /usr/share/man/man1/covid-etl.1.gz, /usr/share/bash-completion/completions/covid-etl
#     (generated from the binary's --help: scripts/package_files.sh, target package_files)
#   /etc/covid-etl/covid-etl.toml (a conffile: config/covid-etl.example.toml, db in /var/lib)
#   /lib/systemd/system/covid-etl{,-run}.service, covid-etl-run.timer (deploy/systemd/'s units,
#     run as the system user covid-etl instead of a dynamic one, the binary in /usr/bin)
#   /usr/share/doc/covid-etl/ (README.md, copyright, changelog)
# The maintainer scripts (deploy/debian/) create the user and /var/lib/covid-etl; a purge leaves
# that directory (the database) and the user. The units are installed, not enabled.
set(PKG_STAGE ${CMAKE_BINARY_DIR}/package-files)

add_custom_command(
  OUTPUT ${PKG_STAGE}/covid-etl.1.gz ${PKG_STAGE}/covid-etl.bash
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/package_files.sh $<TARGET_FILE:covid-etl> ${PKG_STAGE}
  DEPENDS covid-etl ${CMAKE_SOURCE_DIR}/scripts/package_files.sh
  COMMENT "Generating the man page and bash completion from covid-etl --help")
add_custom_target(package_files DEPENDS ${PKG_STAGE}/covid-etl.1.gz ${PKG_STAGE}/covid-etl.bash)

# The units as the package installs them.
foreach(unit covid-etl.service covid-etl-run.service covid-etl-run.timer)
  file(READ ${CMAKE_SOURCE_DIR}/deploy/systemd/${unit} text)
  string(REPLACE "/usr/local/bin/covid-etl" "/usr/bin/covid-etl" text "${text}")
  string(REPLACE "DynamicUser=yes" "User=covid-etl\nGroup=covid-etl" text "${text}")
  string(REPLACE "file:///usr/local/share/doc/covid-etl/README.md"
                 "file:///usr/share/doc/covid-etl/README.md.gz" text "${text}")
  string(REGEX REPLACE "# Install: copy[^\n]*\n#[^\n]*\n#[^\n]*\n"
                       "# Installed by the covid-etl package; enable it with\n" text "${text}")
  file(WRITE ${PKG_STAGE}/systemd/${unit} "${text}")
endforeach()
file(READ ${CMAKE_SOURCE_DIR}/config/covid-etl.example.toml text)
string(REPLACE "db = \"data/covid.db\"" "db = \"/var/lib/covid-etl/covid.db\"" text "${text}")
file(WRITE ${PKG_STAGE}/covid-etl.toml "${text}")
file(WRITE ${PKG_STAGE}/changelog
  "covid-etl (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
  "  * Built from the covid-etl repository; see README.md.\n\n"
  " -- covid-etl maintainers <covid-etl@example.org>  Mon, 07 Dec 2026 00:00:00 +0000\n")
add_custom_command(OUTPUT ${PKG_STAGE}/changelog.gz ${PKG_STAGE}/README.md.gz
  COMMAND gzip -9nc ${PKG_STAGE}/changelog > ${PKG_STAGE}/changelog.gz
  COMMAND gzip -9nc ${CMAKE_SOURCE_DIR}/README.md > ${PKG_STAGE}/README.md.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/README.md ${PKG_STAGE}/changelog)
add_custom_target(package_docs DEPENDS ${PKG_STAGE}/changelog.gz ${PKG_STAGE}/README.md.gz)
add_dependencies(package_files package_docs)

install(TARGETS covid-etl RUNTIME DESTINATION bin)
install(FILES ${PKG_STAGE}/covid-etl.1.gz DESTINATION share/man/man1)
install(FILES ${PKG_STAGE}/covid-etl.bash DESTINATION share/bash-completion/completions
        RENAME covid-etl)
install(FILES ${PKG_STAGE}/covid-etl.toml DESTINATION /etc/covid-etl)
install(FILES ${PKG_STAGE}/systemd/covid-etl.service ${PKG_STAGE}/systemd/covid-etl-run.service
              ${PKG_STAGE}/systemd/covid-etl-run.timer DESTINATION /lib/systemd/system)
# zlib is linked in statically (the server's gzip; src/serve/CMakeLists.txt): lintian's
# embedded-library, overridden on purpose (a self-contained binary, see CMakeLists.txt).
install(FILES ${CMAKE_SOURCE_DIR}/deploy/debian/lintian-overrides DESTINATION share/lintian/overrides
        RENAME covid-etl)
install(FILES ${PKG_STAGE}/README.md.gz ${PKG_STAGE}/changelog.gz
              ${CMAKE_SOURCE_DIR}/deploy/debian/copyright DESTINATION share/doc/covid-etl)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME covid-etl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "covid-etl maintainers <covid-etl@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "US COVID-19 data: download, validate, load and serve")
set(CPACK_PACKAGE_DESCRIPTION
    "covid-etl downloads the public COVID-19 series of the United States (the\nNew York Times' national, state and county series, Johns Hopkins'\nrecoveries, the WHO's world series), validates and joins them, loads what\nis new into SQLite, PostgreSQL or DynamoDB, and serves a dashboard and a\nJSON API. One binary; systemd units for the daemon and for daily runs.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/covid-etl")
# libcurl and libpq are loaded when first used (src/common/libcurl.h, src/load/postgres/libpq.h):
# dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4, adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libpq5")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/postinst ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
    ${CMAKE_SOURCE_DIR}/deploy/debian/postrm ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
