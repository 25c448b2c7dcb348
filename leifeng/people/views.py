from django.http import HttpResponse


def register(request):
    return HttpResponse("TODO")


def my_profile(request):
    return HttpResponse("TODO")


def volunteer_list(request):
    return HttpResponse("TODO")
