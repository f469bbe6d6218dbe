# Prometheus, Alertmanager and Grafana: metrics from every VM, alerts to Pushover.
{ config, pkgs, ... }:
{
  services.grafana = {
    enable = true;
    settings = {
      server = {
        http_addr = "127.0.0.1";
        http_port = 3001;
      };
      security = {
        admin_user = "admin";
        admin_password = "@GRAFANA_ADMIN_PASSWORD@";
        secret_key = "@GRAFANA_SECRET_KEY@";
      };
    };
    provision = {
      enable = true;
      datasources.settings.datasources = [
        {
          name = "Prometheus";
          type = "prometheus";
          url = "http://${config.services.prometheus.listenAddress}:${toString config.services.prometheus.port}";
          isDefault = true;
          editable = false;
        }
      ];
    };
  };

  services.prometheus = {
    enable = true;
    port = 9001;

    # Enable and configure Alertmanager
    alertmanager = {
      enable = true;
      port = 9093;
      configuration = {
        route = {
          receiver = "pushover";
          group_by = [
            "alertname"
            "instance"
          ];
          group_wait = "10s";
          group_interval = "5m";
          repeat_interval = "3h";
          # Drop alerts from laptops (no notifications)
          routes = [
            {
              receiver = "devnull";
              matchers = [ "instance=~\"stian-dell-nixos\"" ];
            }
          ];
        };
        receivers = [
          {
            name = "pushover";
            pushover_configs = [
              {
                token = "@PUSHOVER_TOKEN@";
                user_key = "@PUSHOVER_USER_KEY@";
                send_resolved = true;
                title = "{{ if .CommonAnnotations.summary }}{{ .CommonAnnotations.summary }}{{ else }}{{ .CommonLabels.alertname }} on {{ .CommonLabels.instance }}{{ end }}";
              }
            ];
          }
          { name = "devnull"; }
        ];
      };
    };

    # Point Prometheus to the local Alertmanager
    alertmanagers = [
      {
        static_configs = [
          { targets = [ "127.0.0.1:${toString config.services.prometheus.alertmanager.port}" ]; }
        ];
      }
    ];

    ruleFiles = [
      (pkgs.writeText "alerts-borg.yml" ''
        groups:
          - name: borg-backup
            rules:
              - alert: BorgBackupTooOld
                expr: (time() - borg_backup_last_success_timestamp_seconds) > 172800
                for: 1h
                labels:
                  severity: warning
                annotations:
                  summary: 'Borg backup on {{ $labels.instance }} is too old'
      '')
    ];

    scrapeConfigs = [
      {
        job_name = "scraper";
        static_configs = [
          {
            targets = [ "immich:9002" "syncthing:9002" "jellyfin:9002" "audiobookshelf:9002" "adguarder:9002" ];
            labels.job = "node";
          }
        ];
      }
      # Scrape Syncthing's metrics endpoint directly with an API key.
      {
        job_name = "syncthing";
        metrics_path = "/metrics";
        scheme = "http";
        static_configs = [
          {
            targets = [ "syncthing:8384" ];
            labels = {
              instance = "syncthing";
              job = "syncthing";
            };
          }
        ];
        authorization = {
          type = "Bearer";
          credentials = "@SYNCTHING_API_KEY@";
        };
      }
    ];
  };
}
