from django.contrib.admin.apps import AdminConfig


class RangexAdminConfig(AdminConfig):
    default_site = "rangex.admin_site.RangexAdminSite"
