"""Syncthing: the GUI password and the GUI API key.

* ``settings.gui.password`` → ``services.syncthing.guiPasswordFile`` (read by
  ``syncthing-init``, which runs as the Syncthing user).
* ``settings.gui.apikey`` (or ``apiKey``, the REST API's spelling) has no file
  option, and the module PUTs every ``settings.gui`` attribute over the REST API
  from a script in the store.  The
  route: the key leaves ``settings`` and reaches Syncthing as ``STGUIAPIKEY`` in an
  ``EnvironmentFile`` of ``syncthing.service`` (read by systemd, root-owned).
  Syncthing accepts a request whose key is either the one in ``config.xml`` or
  ``$STGUIAPIKEY`` (``GUIConfiguration.IsValidAPIKey``), so ``syncthing-init`` —
  which reads the key back from ``config.xml`` with ``xmllint`` — keeps working,
  and Prometheus (or anything else given the sops secret) uses the env key.
  ``--gui-apikey=$(cat …)`` in ``extraFlags`` would not work: ``ExecStart`` is not
  run by a shell.
"""

from __future__ import annotations

from collections.abc import Sequence

from secretkit.nix import emit
from secretkit.nix.catalogue.base import (
    NIXPKGS,
    Reader,
    Refusal,
    Rewrite,
    Site,
    Source,
    TemplateLine,
    delete_node,
    env_safe,
    match,
)
from secretkit.nix.catalogue.sibling import Row, SiblingFile

_MODULE = "nixos/modules/services/networking/syncthing.nix"
_INIT = Source(
    NIXPKGS,
    "013635633ffe11f70df1d639f563f21c42c1f778",
    _MODULE,
    "syncthing-init … serviceConfig = { User = cfg.user; …",
)

_PASSWORD_FILE = Source(
    # a nixpkgs fork (not known to be an upstream commit); NixOS/nixpkgs's stored copy
    # predates guiPasswordFile.  Upstream it came with NixOS/nixpkgs#446197, opened on
    # 2025-09-26 (after 25.05; #290485 before it was closed unmerged); when it merged is
    # not on record here, so 25.11 is not assumed to have it: 26.05 is the first release
    # known to (a 25.11 pin is refused, and told the steps by hand)
    "lordkekz/nixpkgs",
    "4e4d1a3f39313d1c4d0f29bc6f91f5c1976a7c95",
    _MODULE,
    '${pkgs.mkpasswd}/bin/mkpasswd -m bcrypt --stdin <"${cfg.guiPasswordFile}" '
    # in updateConfig, the ExecStart of syncthing-init, which runs as the Syncthing user
    "… User = cfg.user;",
)

GUI_PASSWORD = SiblingFile(
    key="syncthing-gui-password",
    description="services.syncthing.settings.gui.password → guiPasswordFile (syncthing user)",
    reader=Reader(
        "daemon",
        _PASSWORD_FILE,
        since="26.05",
        owner="config.services.syncthing.user",
        owner_default="syncthing",  # (its user option's default)
        user_from="services.syncthing.enable",
    ),
    rows=(
        Row(
            "services.syncthing.settings.gui.password",
            "services.syncthing.guiPasswordFile",
            "syncthing-init.service",
            moved=True,
        ),
    ),
    before_since=(
        "no NixOS option before 26.05 reads the GUI password from a file (syncthing-init "
        "sends settings.gui.password to Syncthing as it is): drop settings.gui.password "
        "from the Nix code and set the password in Syncthing itself (its GUI: Actions → "
        "Settings → GUI → GUI Authentication Password), which keeps only its bcrypt hash"
    ),
)

_APIKEY_CHECK = Source(
    "syncthing/syncthing",
    "main",
    "lib/config/guiconfiguration.go",
    'case c.APIKey, os.Getenv("STGUIAPIKEY"): return true',
)


class GuiApiKey:
    key = "syncthing-gui-apikey"
    description = (
        "services.syncthing.settings.gui.apikey → STGUIAPIKEY in an EnvironmentFile of "
        "syncthing.service (systemd reads it; syncthing-init keeps using config.xml's key)"
    )
    reader = Reader(
        "systemd",
        Source(
            NIXPKGS, _INIT.commit, _MODULE, "syncthing = { … serviceConfig = { … User = cfg.user;"
        ),
        since="19.03",
    )
    verified_by = _APIKEY_CHECK

    def matches(self, path: Sequence[str]) -> bool:
        # the module PUTs settings.gui as JSON; Go's decoder matches field names without
        # regard to case, so `apiKey` (the REST API's spelling) is the same setting
        return match("services.syncthing.settings.gui.apikey|apiKey", path)

    def name(self, site: Site) -> str:
        return "syncthing/gui/apikey"

    def rewrite(self, site: Site, name: str) -> Rewrite | Refusal:
        if site.literal != site.secret.reveal():
            return Refusal("the secret is only part of the string")
        if not env_safe(site.secret):
            return Refusal("the value has characters an environment file cannot carry")
        binding = site.binding
        if binding is None:
            return Refusal("the value is not a plain attribute")
        option = ("systemd", "services", "syncthing", "serviceConfig", "EnvironmentFile")
        return Rewrite(
            site.secret,
            [delete_node(site.tree, binding)],
            "syncthing.service EnvironmentFile (STGUIAPIKEY)",
            template=TemplateLine(
                template="syncthing-gui.env",
                line=f"STGUIAPIKEY={emit.placeholder(name)}",
                option=option,
                restart_units=("syncthing.service",),
            ),
            # Syncthing accepts config.xml's key and $STGUIAPIKEY (_APIKEY_CHECK): after
            # migrate both are the committed key, so both have to change
            note=(
                "the Syncthing API key that was in the Nix code is now STGUIAPIKEY, from the "
                "sops file, and "
                "syncthing-init also wrote it into config.xml; Syncthing accepts either, so "
                f"to retire it run `secretkit rotate value {name} --kind alnum --length 32` (a new "
                "STGUIAPIKEY, shaped as Syncthing makes its keys, for "
                "Syncthing and for whatever reads the sops secret), and once that is deployed "
                "generate a new config.xml key in the Syncthing GUI (Actions → Settings → "
                "GUI → API Key → Generate)"
            ),
        )


GUI_APIKEY = GuiApiKey()
