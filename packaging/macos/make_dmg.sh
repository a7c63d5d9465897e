#!/bin/sh
# Sign Handoff.app (when an identity is given) and pack it into a compressed .dmg with a link to
# /Applications. build.py calls it after PyInstaller on macOS:
#   packaging/macos/make_dmg.sh dist/Handoff.app dist/Handoff-0.1.0-macos-arm64.dmg
# Environment:
#   HANDOFF_CODESIGN_IDENTITY  e.g. "Developer ID Application: Name (TEAMID)": sign everything with the
#                              hardened runtime and packaging/macos/entitlements.plist. Unset: keep the
#                              ad-hoc signature PyInstaller made (runs on this Mac; Gatekeeper blocks a
#                              downloaded copy on others until it is signed and notarized).
#   HANDOFF_NOTARY_PROFILE     a `xcrun notarytool store-credentials` profile: notarize and staple the dmg.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 Handoff.app OUT.dmg" >&2; exit 2; }
app=$1
dmg=$2
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
entitlements="$here/entitlements.plist"
identity=${HANDOFF_CODESIGN_IDENTITY:-}
notary_profile=${HANDOFF_NOTARY_PROFILE:-}

sign() {
    codesign --force --timestamp --options runtime --sign "$identity" "$@"
}

if [ -n "$identity" ]; then
    echo "Signing $app as $identity"
    # Inside out: loose Mach-O files, then QtWebEngine's helper app, then the frameworks, then the app.
    find "$app/Contents" -type f \( -name "*.so" -o -name "*.dylib" \) -exec \
        codesign --force --timestamp --options runtime --sign "$identity" {} +
    find "$app/Contents" -type d -name "QtWebEngineProcess.app" -exec \
        codesign --force --timestamp --options runtime --entitlements "$entitlements" --sign "$identity" {} \;
    find "$app/Contents" -type d -name "*.framework" -prune -exec \
        codesign --force --timestamp --options runtime --sign "$identity" {} \;
    sign --entitlements "$entitlements" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
else
    echo "HANDOFF_CODESIGN_IDENTITY is not set: keeping PyInstaller's ad-hoc signature (not for distribution)"
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
ditto "$app" "$staging/$(basename "$app")"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
# hdiutil sometimes fails with "Resource busy" on CI machines; a retry is the known remedy.
tries=0
until hdiutil create -volname "Handoff" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"; do
    tries=$((tries + 1))
    [ "$tries" -lt 3 ] || { echo "hdiutil failed $tries times" >&2; exit 1; }
    sleep 5
done

if [ -n "$identity" ]; then
    codesign --force --timestamp --sign "$identity" "$dmg"
fi
if [ -n "$notary_profile" ]; then
    [ -n "$identity" ] || { echo "Notarization needs HANDOFF_CODESIGN_IDENTITY" >&2; exit 1; }
    xcrun notarytool submit "$dmg" --keychain-profile "$notary_profile" --wait
    xcrun stapler staple "$dmg"
fi
echo "Wrote $dmg"
