from django.contrib import admin

from apps.scenarios.models import ScenarioVersion


@admin.register(ScenarioVersion)
class ScenarioVersionAdmin(admin.ModelAdmin):
    pass
