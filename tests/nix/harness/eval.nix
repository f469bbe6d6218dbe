# A minimal evalModules for the tests: import a host's modules, merge their
# definitions (lists concatenate, attrsets merge, equal scalars agree, different
# ones fail), apply option defaults and the recorded declarations of sops-nix and
# of the services the routes touch (declarations.json), and return the facts the
# tests check.  Not nixpkgs' module system: no priorities beyond "a definition
# beats a default", no types beyond the recorded checks.
{ modules, declarations, hostName }:
let
  decls = builtins.fromJSON (builtins.readFile declarations);

  isOption = v: builtins.isAttrs v && (v._type or null) == "option";
  isIf = v: builtins.isAttrs v && (v._type or null) == "if";

  lib = rec {
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = _: mkOption { default = false; };
    mkPackageOption = _: _: _: mkOption { default = null; };
    mkIf = cond: value: { _type = "if"; inherit cond value; };
    mkDefault = v: v;
    mkForce = v: v;
    mkMerge = vs: { _type = "merge"; contents = vs; };
    literalExpression = t: t;
    types = rec {
      str = "str"; bool = "bool"; int = "int"; path = "path"; lines = "lines";
      attrs = "attrs"; package = "package"; anything = "anything";
      listOf = _: "list"; attrsOf = _: "attrs"; nullOr = t: t; submodule = _: "attrs";
      enum = _: "enum"; oneOf = _: "any"; either = _: _: "any";
    };
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    mapAttrs = builtins.mapAttrs;
    optional = c: v: if c then [ v ] else [ ];
    optionals = c: v: if c then v else [ ];
  };

  pkgs = {
    writeText = name: _text: "/nix/store/0000000000000000000000000000000-${name}";
    firefox = "/nix/store/firefox"; neovim = "/nix/store/neovim"; tmux = "/nix/store/tmux";
    systemd = "/nix/store/systemd";
  };

  # --- module list (with imports), split into option declarations and config ---
  load = m:
    let
      fn = if builtins.isFunction m then m else if builtins.isPath m || builtins.isString m then import m else m;
      value = if builtins.isFunction fn then fn { inherit config lib pkgs; options = { }; modulesPath = ""; } else fn;
      imports = value.imports or [ ];
      hasSplit = value ? options || value ? config;
      body = builtins.removeAttrs value [ "imports" ];
      own = if hasSplit then { options = body.options or { }; config = body.config or { }; }
            else { options = { }; config = body; };
    in [ own ] ++ builtins.concatMap load imports;
  loaded = builtins.concatMap load modules;

  # --- merge ---
  # mkIf and mkMerge taken apart where they stand (lib/modules.nix pushDownProperties)
  isMerge = v: builtins.isAttrs v && (v._type or null) == "merge";
  expand = v:
    if isIf v then (if v.cond then expand v.value else [ ])
    else if isMerge v then builtins.concatMap expand v.contents
    else [ v ];
  mergeValues = path: values:
    let vs = builtins.filter (v: v != null) (builtins.concatMap expand values);
    in
    if vs == [ ] then null
    else if builtins.all builtins.isList vs then builtins.concatLists vs
    else if builtins.all (v: builtins.isAttrs v && !(v ? outPath)) vs then mergeSets path vs
    else if builtins.all (v: v == builtins.head vs) vs then builtins.head vs
    else throw "conflicting definitions for ${builtins.concatStringsSep "." path}";
  mergeSets = path: sets:
    let clean = builtins.filter (s: s != null) (builtins.concatMap expand sets);
    in builtins.mapAttrs (n: vs: mergeValues (path ++ [ n ]) vs)
      (builtins.zipAttrsWith (_: vs: vs) clean);
  defined = mergeSets [ ] (map (m: m.config) loaded);

  # option defaults declared by the modules themselves (options.x.y = mkOption { default; })
  defaultsOf = opts:
    if isOption opts then (opts.default or null)
    else if builtins.isAttrs opts then builtins.mapAttrs (_: defaultsOf) opts
    else null;
  declaredDefaults = mergeSets [ ] (map (m: defaultsOf m.options) loaded);

  # recorded defaults of the real modules (services.nginx.user = "nginx", …)
  setAt = path: value: if path == [ ] then value else { ${builtins.head path} = setAt (builtins.tail path) value; };
  recordedDefaults = mergeSets [ ] (map (d: setAt d.path d.default) (builtins.filter (d: d ? default) decls.defaults));

  recursiveUpdate = a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(b ? outPath)
    then a // builtins.mapAttrs (n: v: if a ? ${n} then recursiveUpdate a.${n} v else v) b
    else b;
  base = recursiveUpdate recordedDefaults declaredDefaults;
  # (the release the recorded readers are from: wpa_supplicant runs as its own user)
  merged = recursiveUpdate (recursiveUpdate base { networking.hostName = hostName; system.nixos.release = "25.05"; }) defined;

  # --- sops-nix, as recorded: secret and template paths, placeholders ---
  sopsSecrets = builtins.mapAttrs
    (n: v: { path = "/run/secrets/${n}"; owner = "root"; group = "root"; mode = "0400"; neededForUsers = false; } // v)
    ((merged.sops or { }).secrets or { });
  sopsTemplates = builtins.mapAttrs
    (n: v: { path = "/run/secrets/rendered/${n}"; owner = "root"; mode = "0400"; } // v)
    ((merged.sops or { }).templates or { });
  placeholders = builtins.mapAttrs (n: _: "<SOPS:${n}:PLACEHOLDER>") sopsSecrets;

  config = merged // {
    sops = (merged.sops or { }) // {
      secrets = sopsSecrets;
      templates = sopsTemplates;
      placeholder = placeholders;
    };
  };

  # --- the facts the tests check ---
  values = path: node:
    if path == [ ] then [ node ]
    else
      let head = builtins.head path; rest = builtins.tail path;
      in
      if head == "*" then
        (if builtins.isAttrs node then builtins.concatMap (n: values rest node.${n}) (builtins.attrNames node) else [ ])
      else if head == "[]" then
        (if builtins.isList node then builtins.concatMap (values rest) node else [ ])
      else if builtins.isAttrs node && node ? ${head} then values rest node.${head}
      else [ ];
  uses = map (d: { inherit (d) option kind reader; found = values d.path config; }) decls.options;
in
{
  inherit uses;
  secrets = config.sops.secrets;
  templates = builtins.mapAttrs (_: t: { inherit (t) path owner; content = t.content or ""; }) config.sops.templates;
  age = ((merged.sops or { }).age or { });
  openssh = { enable = ((merged.services or { }).openssh or { }).enable or false; };
  serviceConfigs = builtins.mapAttrs (_: s: s.serviceConfig or { }) ((merged.systemd or { }).services or { });
}
