// ECharts by modules: only the chart kinds and components the pages draw are in the bundle.
import { BarChart, HeatmapChart, LineChart, PieChart } from "echarts/charts";
import {
  DataZoomComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([LineChart, BarChart, PieChart, HeatmapChart, GridComponent, TooltipComponent,
  LegendComponent, TitleComponent, DataZoomComponent, VisualMapComponent, CanvasRenderer]);

export { echarts };
