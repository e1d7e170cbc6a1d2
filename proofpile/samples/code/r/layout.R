<?xml version="1.0" encoding="utf-8"?>
<LinearLayout xmlns:android="http://schemas.android.com/apk/res/android" android:orientation="vertical">
  <TextView android:text="Android resources in a file named .R" />
</LinearLayout>
