from django.urls import path

from apps.ops import views

app_name = "ops"

urlpatterns = [path("jobs/<uuid:pk>/", views.job_detail, name="job_detail")]
