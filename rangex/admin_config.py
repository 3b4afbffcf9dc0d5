from django.contrib.admin.apps import AdminConfig


class RangexAdminConfig(AdminConfig):
    default_site = "rangex.admin_site.RangexAdminSite"

    def ready(self):
        super().ready()
        from rangex.admin_site import tighten_third_party_admins

        tighten_third_party_admins(self.module.site)
